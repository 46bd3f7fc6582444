using System.Net;
using Cluster.Grains.Interfaces.Nodes;
using Cluster.Grains.Interfaces.Scheduling;
using Cluster.Grains.Security;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;

namespace Cluster.Grains.Hosting;

/// <summary>
/// Several silos in this process on loopback, each with its own device slots, sharing one data root: a whole
/// cluster on one machine for the demo and for trying things out. Silo 0 is the primary (localhost clustering).
/// </summary>
public sealed class LocalCluster : IAsyncDisposable
{
    private readonly List<IHost> _silos = [];

    private readonly string _clusterId = "local-" + Guid.NewGuid().ToString("N")[..8];
    private readonly int _slotsPerSilo;
    private readonly int _threadsPerSlot;
    private readonly string _dataRoot;
    private readonly Action<TrainingClusterOptions>? _configure;
    private readonly Action<ISiloBuilder>? _configureSilo;
    private readonly SiloCallProof _siloProof = SiloCallProof.ForThisProcess(TimeProvider.System); // every silo runs in this process
    private int _primaryPort;
    private int _primaryGatewayPort;

    private LocalCluster(int slotsPerSilo, int threadsPerSlot, string dataRoot, Action<TrainingClusterOptions>? configure, Action<ISiloBuilder>? configureSilo)
    {
        _configureSilo = configureSilo;
        _slotsPerSilo = slotsPerSilo;
        _threadsPerSlot = threadsPerSlot;
        _dataRoot = dataRoot;
        _configure = configure;
    }

    public IReadOnlyList<IHost> Silos => _silos;

    /// <summary>Silo 0's gateway on 127.0.0.1, for an outside client (the console): it reaches the operator-facing methods only.</summary>
    public int GatewayPort => _primaryGatewayPort;

    /// <summary>The cluster id an outside client must name (the service id is <c>cluster-demo</c>).</summary>
    public string ClusterId => _clusterId;

    /// <summary>A client co-hosted in silo 0 (it counts as the silo: it reaches internal methods too).</summary>
    public IClusterClient Client => _silos[0].Services.GetRequiredService<IClusterClient>();

    /// <summary>
    /// Starts <paramref name="silos"/> silos, each with <paramref name="slotsPerSilo"/> CPU/GPU slots;
    /// <paramref name="configure"/> adjusts every silo's training options after those; <paramref name="configureSilo"/>
    /// runs on every silo builder before the training cluster is added, so services it registers (e.g. an
    /// <c>ICheckpointStore</c>) take the place of the defaults.
    /// </summary>
    public static async Task<LocalCluster> StartAsync(int silos, int slotsPerSilo, int threadsPerSlot, string dataRoot, Action<TrainingClusterOptions>? configure = null,
        Action<ISiloBuilder>? configureSilo = null)
    {
        var cluster = new LocalCluster(slotsPerSilo, threadsPerSlot, dataRoot, configure, configureSilo);
        try
        {
            for (int i = 0; i < silos; i++)
                cluster._silos.Add(await cluster.StartSiloAsync(i));
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
        return cluster;
    }

    /// <summary>Starts one more silo, <c>local-N</c>, which joins the cluster (its nodes register); returns its index.</summary>
    public async Task<int> AddSiloAsync()
    {
        int index = _silos.Count;
        _silos.Add(await StartSiloAsync(index));
        return index;
    }

    /// <summary>
    /// Starts a fresh silo under the name of silo <paramref name="index"/>, which must have been stopped (e.g. by
    /// <see cref="StopSiloAbruptlyAsync"/>): the machine coming back after a crash.
    /// </summary>
    public async Task RestartSiloAsync(int index)
    {
        if (index <= 0 || index >= _silos.Count)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"Silo index must be between 1 and {_silos.Count - 1}: silo 0 is the primary and never stops.");
        var old = _silos[index];
        await StopNowAsync(old); // no-op for a stopped host
        old.Dispose();
        _silos[index] = await StartSiloAsync(index);
    }

    private async Task<IHost> StartSiloAsync(int index)
    {
        int[] ports = LoopbackPorts.Free(2);
        if (index == 0) (_primaryPort, _primaryGatewayPort) = (ports[0], ports[1]);
        var builder = Host.CreateApplicationBuilder(StartupConfiguration.ReadOnce());
        builder.Logging.ClearProviders().AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning)
            .AddFilter("Orleans.Runtime.Silo", LogLevel.Error)      // ServerGC advice: not for a demo
            .AddFilter("Orleans.Runtime.Watchdog", LogLevel.Error) // first check after a cold start
            .AddFilter("Orleans.Streams", LogLevel.Critical)        // memory-stream pulling agents cancelled at shutdown
            .AddFilter("Orleans.Providers", LogLevel.Critical)
            .AddFilter("Orleans.Messaging", LogLevel.Critical)        // calls to a silo that was just taken out
            .AddFilter("Cluster", LogLevel.Error);                   // failures and recoveries show as cluster events
        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(ports[0], ports[1], new IPEndPoint(IPAddress.Loopback, _primaryPort), "cluster-demo", _clusterId);
            silo.Configure<SiloOptions>(o => o.SiloName = $"local-{index}");
            silo.UseFastFailureDetection();
            _configureSilo?.Invoke(silo);
            silo.AddOperatorSurface(_siloProof); // loopback, no TLS: a client is the local user (admin), internal methods stay closed
            silo.AddTrainingCluster(o =>
            {
                o.DeviceSlots = _slotsPerSilo;
                o.ThreadsPerSlot = _threadsPerSlot;
                o.DataRoot = _dataRoot;
                _configure?.Invoke(o);
            });
        });
        var host = builder.Build();
        try
        {
            await host.StartAsync();
        }
        catch
        {
            host.Dispose();
            throw;
        }
        return host;
    }

    /// <summary>
    /// Takes silo <paramref name="index"/> (not the primary, 0) out of the cluster without draining it: its host is
    /// stopped with no grace period, so its stages die mid-step and the rest of the cluster must detect and recover.
    /// (A real crash is a killed process; the recovery tests do that with separate silo processes.)
    /// </summary>
    public async Task StopSiloAbruptlyAsync(int index)
    {
        if (index <= 0 || index >= _silos.Count)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"Silo index must be between 1 and {_silos.Count - 1}: silo 0 is the primary that holds the cluster together.");
        await StopNowAsync(_silos[index]);
    }

    private static async Task StopNowAsync(IHost host)
    {
        using var noGrace = new CancellationTokenSource(TimeSpan.FromMilliseconds(1));
        try
        {
            await host.StopAsync(noGrace.Token);
        }
        catch (OperationCanceledException)
        {
            // expected: no grace period
        }
    }

    /// <summary>Waits until <paramref name="nodes"/> nodes have registered and heartbeat; their records.</summary>
    public async Task<IReadOnlyList<NodeInfo>> WaitForNodesAsync(int nodes, TimeSpan timeout)
    {
        var scheduler = Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var registered = await scheduler.GetNodes();
            if (registered.Count(n => n.Health is not null) >= nodes) return registered;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"Only {registered.Count} of {nodes} nodes registered within {timeout.TotalSeconds:F0} s.");
            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync()
    {
        for (int i = _silos.Count - 1; i >= 0; i--)
        {
            try
            {
                await _silos[i].StopAsync(TimeSpan.FromSeconds(10));
            }
            finally
            {
                _silos[i].Dispose();
            }
        }
        _silos.Clear();
    }
}
