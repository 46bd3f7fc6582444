using Cluster.Grains.Checkpoints;
using Cluster.Grains.Compute;
using Cluster.Grains.Hosting;
using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Nodes;
using Cluster.Grains.Interfaces.Scheduling;
using Cluster.Grains.Tests;
using Cluster.Silo.Configuration;
using Cluster.Silo.Hosting;
using System.Net;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace Cluster.Silo.Tests;

/// <summary>
/// A gracefully stopping silo leaves only once the grains that moved off it took the copies they left on it (a moved
/// stage's own snapshots, a moved holder's): leaving earlier loses them, and the job then restores from the other copy
/// or a checkpoint. The drain itself is faked here (the scheduler finds nothing placed on the silo's node), so what is
/// tested is the wait after it; <see cref="GracefulShutdownTests"/> runs the whole shutdown with silo processes.
/// </summary>
public sealed class DrainOnShutdownTests : IDisposable
{
    private static readonly UnitImage s_unit = new(0, "block.0", [1, 2, 3]);
    private readonly MigrationParcels _parcels = new(TimeProvider.System);
    private readonly DeviceWorkerPool _workers = new(
        InterfaceFake.Of<ILocalSiloDetails>(("get_Name", _ => "leaving")),
        Options.Create(new TrainingClusterOptions { DeviceSlots = 1, ThreadsPerSlot = 1 }), TimeProvider.System, new ComputeHang(), new ComputeFault());
    private readonly RecordingLogger<DrainOnShutdown> _log = new();
    private static readonly ILocalSiloDetails s_leavingSilo = InterfaceFake.Of<ILocalSiloDetails>(
        ("get_Name", _ => "leaving"), ("get_SiloAddress", _ => SiloAddress.New(IPAddress.Loopback, 11111, 7)));

    /// <summary>
    /// The drain is for this incarnation of the silo (the scheduler ends it when the silo is back); a scheduler of an
    /// older version, which does not know that call, gets an operator's drain instead, and the log says to uncordon.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_nodes_are_drained_for_this_leave_only_and_as_an_operator_would_by_an_older_scheduler(bool olderScheduler)
    {
        await Shutdown(TimeSpan.FromMinutes(1), olderScheduler: olderScheduler).StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(1));

        string node = Assert.Single(_workers.NodeIds);
        if (olderScheduler)
        {
            Assert.Empty(DrainedLeaving);
            Assert.Equal([node], DrainedAsOperator);
            Assert.True(_log.Has($"The scheduler refused to drain node {node} for this silo's leave"), _log.ToString());
        }
        else
        {
            Assert.Equal([(node, SiloAddress.New(IPAddress.Loopback, 11111, 7).ToParsableString())], DrainedLeaving);
            Assert.Empty(DrainedAsOperator);
        }
        Assert.True(_log.Has("Nodes drained in"), _log.ToString());
    }

    [Fact]
    public async Task Leaving_waits_until_the_moved_grains_took_the_copies_they_left_here()
    {
        var parcel = _parcels.Post([[s_unit]]);
        var stopping = Shutdown(TimeSpan.FromMinutes(5)).StopAsync(CancellationToken.None);

        await Eventually.True(() => Task.FromResult(_log.Has("Waiting for 1 grains moving off this silo")), TimeSpan.FromMinutes(1), "the drained silo to wait for its parcel");
        Assert.False(stopping.IsCompleted, $"left with a parcel still here: {_log}");
        Assert.NotNull(_parcels.Chunk(parcel, 0, 0, 0)); // the new activation takes it …
        _parcels.Drop(parcel); // … and drops it

        await stopping.WaitAsync(TimeSpan.FromMinutes(1));
        Assert.True(_log.Has("The grains moving off this silo took their copies"), _log.ToString());
    }

    /// <summary>
    /// A stage gives up its device (so its node looks drained) before Orleans dehydrates it and it posts its parcel:
    /// the silo must not leave in between (seen once in <see cref="GracefulShutdownTests"/> without this: the job
    /// recovered, its Configure of the moving stage cut off by the leaving silo).
    /// </summary>
    [Fact]
    public async Task Leaving_waits_for_a_grain_that_gave_up_its_device_but_has_not_yet_left_its_copies()
    {
        _parcels.Departing("pipelinestage/job/r0/s1");
        var stopping = Shutdown(TimeSpan.FromMinutes(5)).StopAsync(CancellationToken.None);

        await Eventually.True(() => Task.FromResult(_log.Has("Waiting for 1 grains moving off this silo")), TimeSpan.FromMinutes(1), "the drained silo to wait for the departing stage");
        var parcel = _parcels.Post([[s_unit]]); // dehydrated: its copies are a parcel now …
        _parcels.Departed("pipelinestage/job/r0/s1");
        Assert.False(stopping.IsCompleted, $"left with the departed stage's parcel still here: {_log}");
        _parcels.Drop(parcel); // … taken by its new activation

        await stopping.WaitAsync(TimeSpan.FromMinutes(1));
        Assert.True(_log.Has("The grains moving off this silo took their copies"), _log.ToString());
    }

    [Fact]
    public async Task Leaving_gives_up_on_copies_nobody_takes_at_the_drain_timeout_and_says_so()
    {
        _parcels.Post([[s_unit]]);

        await Shutdown(TimeSpan.FromMilliseconds(300)).StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(1));

        Assert.True(_log.Has("1 moving grains' copies not yet taken, or a job that ran here not yet stepping elsewhere, after 0 s (Shutdown:DrainTimeout)"), _log.ToString());
        Assert.Equal(1, _parcels.Count);
    }

    [Fact]
    public async Task A_drained_silo_with_no_copies_left_on_it_leaves_at_once()
    {
        await Shutdown(TimeSpan.FromMinutes(5)).StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(1));

        Assert.True(_log.Has("Nodes drained in"), _log.ToString());
        Assert.False(_log.Has("Waiting for"), _log.ToString());
    }

    /// <summary>
    /// A job's calls to its moved stage may still pass through the leaving silo (sent to the stage's old address, to be
    /// forwarded) until the job has reached the stage at its new place: the silo leaves once every job that ran stages
    /// on it has completed a step since its nodes were drained — or stopped running (a paused job is not waited for).
    /// A job whose coordinator does not answer at first (<paramref name="silentAsks"/>: busy, or answering from a silo
    /// that rejects the call) is asked again, and waited for once it answers that it runs: seen in
    /// RollingRestartProcessTests (2026-12-08) as a leave with no wait for the job at all, its coordinator then asked to
    /// hand over in the middle of its move.
    /// </summary>
    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public async Task Leaving_waits_until_each_job_that_ran_here_completed_a_step_elsewhere(int silentAsks)
    {
        long steps = 7;
        int silent = silentAsks;
        var running = InterfaceFake.Of<ITrainingJobGrain>(("GetStatus", _ => Interlocked.Decrement(ref silent) >= 0
            ? Task.FromException<JobStatus>(StoppingSiloRejection.Create())
            : Task.FromResult(new JobStatus { JobId = "moving", State = JobState.Running, CompletedSteps = Interlocked.Read(ref steps) })));
        var paused = InterfaceFake.Of<ITrainingJobGrain>(("GetStatus", _ => Task.FromResult(new JobStatus { JobId = "paused", State = JobState.Paused, CompletedSteps = 3 })));
        var stopping = Shutdown(TimeSpan.FromMinutes(5), ["moving/s1", "paused/r1/s0"], id => id == "moving" ? running : paused).StopAsync(CancellationToken.None);

        await Eventually.True(() => Task.FromResult(_log.Has("Waiting for jobs moving, which ran stages here")), TimeSpan.FromMinutes(1), "the drained silo to wait for the moving job's next step");
        Assert.Equal(silentAsks > 0, _log.Has("Job moving did not answer while this silo left (asked again)"));
        Assert.False(stopping.IsCompleted, $"left before the job stepped on its new placement: {_log}");
        Interlocked.Increment(ref steps);

        await stopping.WaitAsync(TimeSpan.FromMinutes(1));
        Assert.True(_log.Has("completed a step elsewhere"), _log.ToString());
    }

    /// <summary>
    /// The scheduler's own silo may be leaving at the same moment: its calls are then rejected unrun ("Silo stopping")
    /// until the scheduler is active on a silo that stays. This silo's drain sends them again; before, the first
    /// rejection ended the drain and this silo's jobs recovered as after a failure.
    /// </summary>
    [Fact]
    public async Task The_drain_goes_on_although_a_stopping_schedulers_silo_rejects_its_first_calls()
    {
        _rejections["DrainLeaving"] = 2;
        _rejections["GetNodes"] = 2;

        await Shutdown(TimeSpan.FromMinutes(1)).StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(1));

        string node = Assert.Single(_workers.NodeIds);
        Assert.Equal([(node, SiloAddress.New(IPAddress.Loopback, 11111, 7).ToParsableString())], DrainedLeaving);
        Assert.Empty(DrainedAsOperator); // a rejection is not an older scheduler
        Assert.Equal(0, _rejections["DrainLeaving"] + _rejections["GetNodes"]);
        Assert.True(_log.Has("Nodes drained in"), _log.ToString());
        Assert.False(_log.Has("Could not drain"), _log.ToString());
    }

    /// <summary>A job that never answers is given up on after a bounded number of asks, with a warning naming it.</summary>
    [Fact]
    public async Task A_job_that_never_answers_is_not_waited_for_and_the_log_says_so()
    {
        var silent = InterfaceFake.Of<ITrainingJobGrain>(("GetStatus", _ => Task.FromException<JobStatus>(new TimeoutException("no answer"))));

        await Shutdown(TimeSpan.FromMinutes(5), ["lost/s0"], _ => silent).StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(1));

        Assert.True(_log.Has("Jobs lost ran stages here but did not answer their status 20 times"), _log.ToString());
        Assert.False(_log.Has("Waiting for jobs"), _log.ToString());
    }

    public void Dispose()
    {
        _workers.Dispose();
        _parcels.Dispose();
    }

    /// <summary>
    /// The shutdown of a silo whose node the faked scheduler drains at once: <paramref name="stages"/> were on it when the
    /// drain began (none by default), their jobs' grains are <paramref name="jobs"/>'.
    /// </summary>
    private DrainOnShutdown Shutdown(TimeSpan drainTimeout, string[]? stages = null, Func<string, ITrainingJobGrain>? jobs = null, bool olderScheduler = false)
    {
        Task<NodeInfo> Drained(object?[] args) =>
            Task.FromResult(new NodeInfo(new NodeCapabilities((string)args[0]!, "leaving", "cpu", 1, 1, 1), null, null, stages ?? [], Cordoned: true, Draining: true));
        var scheduler = InterfaceFake.Of<ISchedulerGrain>(
            ("DrainLeaving", args =>
            {
                if (Rejected("DrainLeaving")) return Task.FromException<NodeInfo>(StoppingSiloRejection.Create());
                if (olderScheduler) throw new NotImplementedException("DrainLeaving is not a method of this version of ISchedulerGrain");
                DrainedLeaving.Add(((string)args[0]!, (string)args[1]!));
                return Drained(args);
            }),
            ("Drain", args =>
            {
                DrainedAsOperator.Add((string)args[0]!);
                return Drained(args);
            }),
            ("GetNodes", _ => Rejected("GetNodes")
                ? Task.FromException<IReadOnlyList<NodeInfo>>(StoppingSiloRejection.Create())
                : Task.FromResult<IReadOnlyList<NodeInfo>>([])));
        var grains = InterfaceFake.Of<IGrainFactory>(("GetGrain<ISchedulerGrain>", _ => scheduler),
            ("GetGrain<ITrainingJobGrain>", args => (jobs ?? throw new InvalidOperationException("No job's grain in this test."))((string)args[0]!)));
        return new DrainOnShutdown(_workers, _parcels, grains, s_leavingSilo, Options.Create(new ShutdownOptions { DrainTimeout = drainTimeout }), TimeProvider.System, _log);
    }

    /// <summary>How many more calls of each method the faked scheduler rejects as a stopping silo would.</summary>
    private readonly Dictionary<string, int> _rejections = new(StringComparer.Ordinal);

    private bool Rejected(string method)
    {
        lock (_rejections)
        {
            if (_rejections.GetValueOrDefault(method) <= 0) return false;
            _rejections[method]--;
            return true;
        }
    }

    /// <summary>The nodes the faked scheduler drained for the silo's leave, with the silo address it was told.</summary>
    private List<(string Node, string Silo)> DrainedLeaving { get; } = [];

    /// <summary>The nodes the faked scheduler drained as an operator's drain.</summary>
    private List<string> DrainedAsOperator { get; } = [];
}
