using Cluster.Grains.Hosting;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Scheduling;
using Orleans.TestingHost;

namespace Cluster.Client.Tests;

/// <summary>An in-memory cluster of 2 silos × 2 CPU slots for the console's commands; each test uses its own job ids.</summary>
public sealed class ConsoleClusterFixture : IAsyncLifetime
{
    public const int Silos = 2;
    public const int SlotsPerSilo = 2;

    public string DataRoot { get; } = Path.Combine(Path.GetTempPath(), "cluster-tests", "client-" + Guid.NewGuid().ToString("N"));

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IClusterClient Client => Cluster.Client;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(Silos);
        string root = DataRoot;
        builder.ConfigureSilo((_, silo) => silo.AddTrainingCluster(o =>
        {
            o.DeviceSlots = SlotsPerSilo;
            o.ThreadsPerSlot = 1;
            o.SlotMemoryBytes = 512L << 20;
            o.DataRoot = root;
            o.HeartbeatPeriod = TimeSpan.FromMilliseconds(100);
            o.NodeTimeout = TimeSpan.FromSeconds(5); // a slow shared machine must not lose nodes by accident
            o.StragglerFactor = 3;                   // four device workers on two cores: a 1.5× pace gap is noise here
        }));
        builder.ConfigureClient(client => client.AddMemoryStreams(JobStreams.Provider));
        Cluster = builder.Build();
        await Cluster.DeployAsync();
        await Eventually.True(async () => (await Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default).GetNodes())
                .Count(n => n.Health is not null) == Silos * SlotsPerSilo,
            TimeSpan.FromSeconds(60), $"all {Silos * SlotsPerSilo} nodes registered and heartbeating");
    }

    public async Task DisposeAsync()
    {
        try
        {
            await Cluster.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException)
        {
            // the test host ends anyway
        }
        try
        {
            Directory.Delete(DataRoot, recursive: true);
        }
        catch (IOException)
        {
            // best effort: a temp folder
        }
    }
}
