using Cluster.Grains.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.DependencyInjection;

namespace Cluster.Grains.Tests;

/// <summary>
/// The in-process cluster's silos (the demo's, the benchmarks') read their settings files once and watch none
/// (<see cref="StartupConfiguration"/>): a host's default file watcher would take one of the user's 128 inotify
/// instances per silo and handle every write below the working directory, where the demo keeps its data.
/// </summary>
public sealed class StartupConfigurationTests
{
    [Fact]
    public async Task The_local_clusters_silos_watch_no_settings_file()
    {
        string dataRoot = Path.Combine(Path.GetTempPath(), "cluster-tests", "read-once-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dataRoot);
        try
        {
            await using var cluster = await LocalCluster.StartAsync(silos: 1, slotsPerSilo: 1, threadsPerSlot: 1, dataRoot);
            var configuration = (IConfigurationRoot)cluster.Silos.Single().Services.GetRequiredService<IConfiguration>();
            var json = configuration.Providers.OfType<JsonConfigurationProvider>().ToList();
            Assert.NotEmpty(json); // appsettings.json is still read
            Assert.All(json, provider => Assert.False(provider.Source.ReloadOnChange, $"{provider.Source.Path} is watched for changes"));
        }
        finally
        {
            Directory.Delete(dataRoot, recursive: true);
        }
    }
}
