using Cluster.Grains.Interfaces.Scheduling;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Cluster.Silo.Tests;

/// <summary>
/// Silo processes of one test and a client connected to them. Waits fail fast, with the silos' output, when a silo
/// process dies; disposing stops the client and kills every process, also when the test failed.
/// </summary>
internal sealed class ProcessCluster : IAsyncDisposable
{
    private readonly List<SiloProcess> _silos = [];
    private IHost? _client;

    public string Suffix { get; } = Guid.NewGuid().ToString("N")[..8];

    /// <summary>Working folders of the silos (and anything else the test writes), deleted on dispose.</summary>
    public string WorkRoot => Path.Combine(Path.GetTempPath(), "cluster-silo-tests", Suffix);

    public IReadOnlyList<SiloProcess> Silos => _silos;

    public SiloProcess StartSilo(string name, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var silo = SiloProcess.Start(name, Path.Combine(WorkRoot, name), args, environment);
        _silos.Add(silo);
        return silo;
    }

    /// <summary>Starts an Orleans client, retrying while no gateway answers yet (silos still starting), until <paramref name="timeout"/>.</summary>
    public async Task<IClusterClient> ConnectAsync(Action<IClientBuilder> configure, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var host = new HostBuilder().UseOrleansClient(configure).Build();
            try
            {
                await host.StartAsync();
                _client = host;
                return host.Services.GetRequiredService<IClusterClient>();
            }
            catch (Exception e)
            {
                host.Dispose();
                AssertSilosRunning();
                if (DateTime.UtcNow > deadline)
                    throw new TimeoutException($"No gateway accepted the client within {timeout.TotalSeconds:F0} s: {e.Message}\n{Outputs()}", e);
                await Task.Delay(500);
            }
        }
    }

    /// <summary>Polls <paramref name="condition"/> until true or <paramref name="timeout"/>; fails at once if a silo exits.</summary>
    public async Task WaitAsync(Func<Task<bool>> condition, TimeSpan timeout, string what, bool silosMustRun = true)
    {
        var deadline = DateTime.UtcNow + timeout;
        Exception? last = null;
        while (DateTime.UtcNow < deadline)
        {
            if (silosMustRun) AssertSilosRunning();
            try
            {
                if (await condition()) return;
            }
            catch (Exception e)
            {
                last = e;
            }
            await Task.Delay(200);
        }
        Assert.Fail($"Timed out after {timeout.TotalSeconds:F0} s waiting for {what}. Last error: {last?.Message ?? "none"}\n{Outputs()}");
    }

    /// <summary>Waits until <paramref name="count"/> nodes have registered with the scheduler and heartbeat.</summary>
    public Task WaitForNodesAsync(IClusterClient client, int count)
    {
        var scheduler = client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);
        return WaitAsync(async () => (await scheduler.GetNodes()).Count(n => n.Health is not null) >= count, TimeSpan.FromMinutes(2), $"{count} node(s) registered");
    }

    public void AssertSilosRunning()
    {
        foreach (var silo in _silos.Where(s => s.HasExited))
            Assert.Fail($"Silo {silo.Name} exited with {silo.ExitCode}:\n{Crash(silo)}{silo.Tail()}");
    }

    /// <summary>The unhandled exception's own lines (a crash's tail is all stack frames), or nothing.</summary>
    private static string Crash(SiloProcess silo)
    {
        string[] lines = silo.Output.Split('\n');
        int at = Array.FindIndex(lines, l => l.StartsWith("Unhandled exception", StringComparison.Ordinal));
        return at < 0 ? "" : string.Join('\n', lines.Skip(at).Where(l => !l.TrimStart().StartsWith("at ", StringComparison.Ordinal)).Take(12)) + "\n…\n";
    }

    public string Outputs() => string.Join("\n", _silos.Select(s => $"--- {s.Name}:\n{s.Tail()}"));

    public async ValueTask DisposeAsync()
    {
        if (_client is not null)
        {
            try
            {
                using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await _client.StopAsync(stop.Token);
            }
            catch (OperationCanceledException)
            {
                // the silos go next anyway
            }
            _client.Dispose();
        }
        foreach (var silo in _silos) await silo.DisposeAsync();
        try
        {
            if (Directory.Exists(WorkRoot)) Directory.Delete(WorkRoot, recursive: true);
        }
        catch (IOException)
        {
            // a file still held by a dying process: the temp folder is cleaned eventually
        }
    }
}
