using Cluster.Grains.Hosting;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Scheduling;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Hosting;
using Orleans.TestingHost;

namespace Cluster.Grains.Tests;

/// <summary>
/// An in-memory cluster of 3 silos × 2 CPU device slots sharing one data root (like a shared file system), with fast
/// heartbeats. One per test class that needs it; each test uses its own job ids.
/// </summary>
public class ClusterFixture : IAsyncLifetime
{
    public const int Silos = 3;
    public const int SlotsPerSilo = 2;

    public ClusterFixture()
        : this(Silos)
    {
    }

    protected ClusterFixture(int silos)
        : this(silos, SlotsPerSilo)
    {
    }

    /// <summary>A cluster of <paramref name="silos"/> silos with <paramref name="slots"/> device slots each (a test that needs a spare slot on one silo).</summary>
    protected ClusterFixture(int silos, int slots)
    {
        SiloCount = silos;
        Slots = slots;
    }

    public int SiloCount { get; }

    /// <summary>Device slots (nodes) per silo: <see cref="SlotsPerSilo"/> unless the fixture asks for more.</summary>
    public int Slots { get; }

    public string DataRoot { get; } = Path.Combine(Path.GetTempPath(), "cluster-tests", "grains-" + Guid.NewGuid().ToString("N"));

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IClusterClient Client => Cluster.Client;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder((short)SiloCount);
        string root = DataRoot;
        builder.ConfigureSilo((options, silo) => AfterTrainingCluster(ConfigureSilo(WithLogFile(silo, options.SiloName), options.SiloName).AddTrainingCluster(o =>
        {
            o.DeviceSlots = Slots;
            o.ThreadsPerSlot = 1;
            o.SlotMemoryBytes = 512L << 20; // small, so an over-large model is refused without allocating it
            o.DataRoot = root;
            o.HeartbeatPeriod = TimeSpan.FromMilliseconds(100);
            // Failures here are silo stops that membership reports at once; a slow shared 2-core machine can delay a
            // heartbeat past the 1 s default, and a false "node lost" would move stages a test expects to stay put.
            o.NodeTimeout = TimeSpan.FromSeconds(5);
            // Six device workers share two cores here, so a 1.5× pace gap can be noise; the straggler test slows a
            // node far more than 3×.
            o.StragglerFactor = 3;
            // Calibration on a busy 2-core machine is noise; equal declared speeds make placement decisions repeatable.
            o.DeviceGigaflops = 10;
        })));
        builder.ConfigureClient(client => ConfigureClient(client.AddMemoryStreams(JobStreams.Provider)));
        Cluster = builder.Build();
        await Cluster.DeployAsync();
        await Eventually.True(async () => (await Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default).GetNodes())
                .Count(n => n.Health is not null) == SiloCount * Slots,
            TimeSpan.FromSeconds(60), $"all {SiloCount * Slots} nodes registered and heartbeating");
    }

    /// <summary>Name of the silo that hosts the grain's activation now, or null when it has none.</summary>
    public string? HostOf(IAddressable grain) => HostOf(grain.GetGrainId());

    /// <summary>Name of the silo that hosts the grain's activation now, or null when it has none.</summary>
    public string? HostOf(GrainId grain) =>
        Cluster.TryGetGrainContext(grain, out var context)
            ? Cluster.Silos.FirstOrDefault(s => s.SiloAddress == context.Address.SiloAddress)?.Name
            : null;

    /// <summary>
    /// A silo hosting one of the job's stages that a test can lose without also losing the cluster's primary, the job
    /// grain or the scheduler (those are other stories); null when there is none.
    /// </summary>
    public InProcessSiloHandle? SiloToLose(ITrainingJobGrain job, JobStatus running)
    {
        var spared = new HashSet<string?> { Cluster.Silos[0].Name, HostOf(job), HostOf(Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default)) };
        return Cluster.Silos.FirstOrDefault(s => !spared.Contains(s.Name) && running.Placement.Any(p => p.SiloName == s.Name));
    }

    /// <summary>
    /// Puts the (still idle) job grain on a silo a test can lose — neither the primary nor the scheduler's (losing those
    /// is another story) — and returns that silo.
    /// </summary>
    public async Task<InProcessSiloHandle> MoveToALosableSilo(ITrainingJobGrain job)
    {
        ArgumentNullException.ThrowIfNull(job);
        await job.GetStatus();
        var scheduler = Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);
        await scheduler.GetNodes();
        string? schedulerSilo = HostOf(scheduler);
        var victim = Cluster.Silos.Skip(1).First(s => s.Name != schedulerSilo);
        await MoveGrainAsync(job, victim, job.GetStatus);
        return victim;
    }

    /// <summary>
    /// Moves a grain's activation to <paramref name="target"/> and waits until it is there. The testing host's
    /// <c>MigrateAsync</c> can wait forever when a migration does not happen (a hang seen about one run in five), so
    /// each attempt (its touch too) is bounded and retried (also when it went to a gateway a test just killed), and the grain's actual
    /// host decides.
    /// </summary>
    public async Task MoveGrainAsync(IAddressable grain, InProcessSiloHandle target, Func<Task> touch)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        Exception? last = null;
        while (true)
        {
            try
            {
                await touch(); // activates the grain (its host is then known), through a gateway that may be gone
                if (HostOf(grain) == target.Name) return;
                if (DateTime.UtcNow > deadline)
                    throw new TimeoutException($"Grain {grain.GetGrainId()} did not move to {target.Name} (it is on {HostOf(grain) ?? "no silo"}).", last);
                await Cluster.MigrateAsync(grain, target.SiloAddress).WaitAsync(TimeSpan.FromSeconds(10));
            }
            catch (Exception e) when (e is TimeoutException or Orleans.Runtime.Messaging.ConnectionFailedException or SiloUnavailableException && DateTime.UtcNow <= deadline)
            {
                // Checked above on the next round. The client's gateway list may still name a silo a test just killed.
                last = e;
                await Task.Delay(TimeSpan.FromMilliseconds(100)); // a refused connection fails at once
            }
        }
    }

    /// <summary>Adds <see cref="TestLogFile"/> when <see cref="TestLogFile.Variable"/> names a file.</summary>
    private static ISiloBuilder WithLogFile(ISiloBuilder silo, string name)
    {
        if (TestLogFile.Path is { } path) silo.Services.AddLogging(logging => logging.AddProvider(new TestLogFile(path, name)));
        return silo;
    }

    /// <summary>A hook for fixtures that add or replace services (e.g. a fault-injecting checkpoint store).</summary>
    protected virtual ISiloBuilder ConfigureSilo(ISiloBuilder silo) => silo;

    /// <summary>The same hook, for fixtures that need the silo's name (e.g. to tell its log lines apart).</summary>
    protected virtual ISiloBuilder ConfigureSilo(ISiloBuilder silo, string siloName) => ConfigureSilo(silo);

    /// <summary>Adds to the test client's configuration (e.g. an outgoing call filter).</summary>
    protected virtual IClientBuilder ConfigureClient(IClientBuilder client) => client;

    /// <summary>A hook for fixtures that replace what the training cluster registers (e.g. its grain storage).</summary>
    protected virtual ISiloBuilder AfterTrainingCluster(ISiloBuilder silo) => silo;

    public async Task DisposeAsync()
    {
        // Bounded: shutting down a cluster that lost silos mid-test must not be able to hang the test host.
        try
        {
            await Cluster.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException)
        {
            // The process ends after the run anyway; the remaining silo threads are background threads.
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
