using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Nodes;
using Cluster.Grains.Interfaces.Scheduling;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;

namespace Cluster.Grains.Hosting;

/// <summary>
/// A cluster of silo processes on loopback sharing one data root, and a client of the primary's gateway: what the
/// real-process failure tests and the recovery benchmark run on. Silo 0 is the primary — localhost clustering keeps the
/// membership table there, so it is the one silo that must not be lost. Disposing kills every process it started.
/// </summary>
public sealed class SiloProcessCluster : IAsyncDisposable
{
    private readonly SiloProcessClusterOptions _options;
    private readonly List<SiloProcess> _silos = [];
    private readonly List<SiloProcess> _replaced = [];
    private IHost? _client;

    private SiloProcessCluster(SiloProcessClusterOptions options) => _options = options;

    /// <summary>The running silos (a restarted one takes its predecessor's place).</summary>
    public IReadOnlyList<SiloProcess> Silos => _silos;

    public SiloProcess Primary => _silos[0];

    public IClusterClient Client => _client?.Services.GetRequiredService<IClusterClient>() ?? throw new InvalidOperationException("The cluster has no client yet.");

    /// <summary>Starts the primary, then the others together once its gateway is open, then a client.</summary>
    public static async Task<SiloProcessCluster> StartAsync(SiloProcessClusterOptions options)
    {
        var problems = options.Validate();
        if (problems.Count > 0)
            throw new ArgumentException($"Silo process cluster options are invalid: {string.Join(" ", problems)}", nameof(options));
        var cluster = new SiloProcessCluster(options);
        try
        {
            int[] ports = LoopbackPorts.Free(2 * options.Silos);
            int primaryPort = ports[0];
            for (int i = 0; i < options.Silos; i++)
            {
                cluster._silos.Add(cluster.StartSilo(options.NamePrefix + i, ports[2 * i], ports[2 * i + 1], primaryPort));
                if (i == 0) await cluster._silos[0].WaitForGatewayAsync(options.StartTimeout); // the others join it
            }
            await Task.WhenAll(cluster._silos.Skip(1).Select(s => s.WaitForGatewayAsync(options.StartTimeout)));

            var builder = Host.CreateApplicationBuilder();
            builder.Logging.ClearProviders();
            builder.UseOrleansClient(client =>
            {
                // Only through the primary, the one silo never lost: through a gateway that hangs (SIGSTOP), stream
                // deliveries to this client would stall for the silos' 30 s response timeout, and calls with them.
                client.UseLocalhostClustering(cluster.Primary.GatewayPort);
                client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(10));
                client.AddMemoryStreams(JobStreams.Provider);
            });
            cluster._client = builder.Build();
            await cluster._client.StartAsync();
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts a silo with the name of <paramref name="dead"/> (a new process, new ports) in its place.</summary>
    public async Task<SiloProcess> RestartAsync(SiloProcess dead)
    {
        int index = _silos.IndexOf(dead);
        if (index <= 0)
            throw new ArgumentException($"Silo {dead.Name} is not a restartable member of this cluster (the primary, silo 0, cannot be replaced).", nameof(dead));
        dead.Kill();
        int[] ports = LoopbackPorts.Free(2);
        var fresh = StartSilo(dead.Name, ports[0], ports[1], Primary.SiloPort);
        _replaced.Add(dead);
        _silos[index] = fresh;
        await fresh.WaitForGatewayAsync(_options.StartTimeout);
        return fresh;
    }

    /// <summary>The silo process of the given silo name, or null.</summary>
    public SiloProcess? Find(string? siloName) => _silos.FirstOrDefault(s => s.Name == siloName);

    /// <summary>Name of the silo that hosts the grain's activation now (the management grain's view), or null.</summary>
    public async Task<string?> HostOf(IAddressable grain)
    {
        var management = Client.GetGrain<IManagementGrain>(0);
        var address = await management.GetActivationAddress(grain);
        if (address is null) return null;
        var hosts = await management.GetDetailedHosts(onlyActive: true);
        return hosts.FirstOrDefault(h => h.SiloAddress.Equals(address))?.SiloName;
    }

    /// <summary>
    /// Makes <paramref name="call"/>, the first call to a grain, activate it on silo <paramref name="siloName"/> (a
    /// placement hint; ignored when the grain is active already). Failure tests use it to put a job's grain where
    /// they mean to lose it — or not.
    /// </summary>
    public async Task<T> ActivateOn<T>(string siloName, Func<Task<T>> call)
    {
        var hosts = await Client.GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: true);
        var silo = hosts.FirstOrDefault(h => h.SiloName == siloName)?.SiloAddress
            ?? throw new InvalidOperationException($"Silo {siloName} is not an active member (active: {string.Join(", ", hosts.Select(h => h.SiloName))}).");
        RequestContext.Set(Orleans.Runtime.Placement.IPlacementDirector.PlacementHintKey, silo);
        try
        {
            return await call();
        }
        finally
        {
            RequestContext.Remove(Orleans.Runtime.Placement.IPlacementDirector.PlacementHintKey);
        }
    }

    /// <summary>Waits until <paramref name="count"/> nodes heartbeat as Ready; their records.</summary>
    public async Task<IReadOnlyList<NodeInfo>> WaitForReadyNodesAsync(int count, TimeSpan timeout)
    {
        var scheduler = Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);
        var deadline = DateTime.UtcNow + timeout;
        IReadOnlyList<NodeInfo> nodes = [];
        Exception? last = null;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                nodes = await scheduler.GetNodes();
                // Fresh heartbeats only: a restarted silo's nodes keep their ids, and their old records linger.
                var recent = DateTimeOffset.UtcNow - TimeSpan.FromSeconds(2);
                if (nodes.Count(n => n.Health is { State: NodeState.Ready } && !n.Lost && n.LastHeartbeatAt > recent) >= count) return nodes;
            }
            catch (Exception e)
            {
                last = e; // the cluster is still settling (a silo joining or leaving)
            }
            await Task.Delay(200);
        }
        throw new TimeoutException($"Only {nodes.Count(n => n.Health is { State: NodeState.Ready })} of {count} nodes were Ready within {timeout.TotalSeconds:F0} s" +
                                   $" ({string.Join(", ", nodes.Select(n => $"{n.Capabilities.NodeId}: {n.Health?.State.ToString() ?? "no heartbeat"}"))})." +
                                   (last is null ? "" : $" Last error: {last.Message}") + Environment.NewLine + Diagnostics());
    }

    /// <summary>The tail of every silo's log (the replaced ones too), for failure messages.</summary>
    public string Diagnostics(int lines = 30) =>
        string.Join(Environment.NewLine, _replaced.Concat(_silos).Select(s => s.LogTail(lines)));

    private SiloProcess StartSilo(string name, int siloPort, int gatewayPort, int primaryPort) =>
        SiloProcess.Start(_options.SiloAssembly, name, siloPort, gatewayPort, primaryPort,
            Path.Combine(_options.ResolvedLogDirectory, name + ".log"),
            [
                $"--TrainingCluster:DeviceSlots={_options.SlotsPerSilo}",
                $"--TrainingCluster:ThreadsPerSlot={_options.ThreadsPerSlot}",
                $"--TrainingCluster:DataRoot={_options.DataRoot}",
                // One timestamped line per entry: the logs are read next to the cluster's events when a test fails.
                "--Logging:Console:FormatterName=simple",
                "--Logging:Console:FormatterOptions:SingleLine=true",
                "--Logging:Console:FormatterOptions:TimestampFormat=HH:mm:ss.fff ",
                "--Logging:LogLevel:Default=Information",
                "--Logging:LogLevel:Orleans=Warning",
                "--Logging:LogLevel:Polly=Warning",
                .. _options.Settings,
            ]);

    public async ValueTask DisposeAsync()
    {
        if (_client is not null)
        {
            using var bounded = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await _client.StopAsync(bounded.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or OrleansException or TimeoutException)
            {
                // the cluster may be half gone; the processes die next anyway
            }
            _client.Dispose();
            _client = null;
        }
        foreach (var silo in _silos.Concat(_replaced))
            silo.Dispose();
        _silos.Clear();
        _replaced.Clear();
    }
}
