using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using Xunit.Abstractions;
using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Stages;
using Cluster.Grains.Placement;
using Orleans.Runtime;

namespace Cluster.Grains.Tests;

/// <summary>
/// Rule (6) of the redundancy invariant (<c>CheckpointShardGrain.LeaveShuttingDownSilo</c>) at every moment of a holder's
/// leave, not only after it: a graceful leave is no failure, so a silo lost in its middle is a single failure and must
/// cost no completed step. s0's holder is alone on a silo that shuts down gracefully while s0's next snapshot is held on
/// its way (no newer copy re-creates the holder meanwhile); the leave is held at one of its moments — before the holder
/// is asked to go, while its new activation takes its copies from the parcel the leaving silo keeps, after it took them
/// and drops the parcel, or as its take fails (as when the new activation cannot register and is re-created empty:
/// <c>KillDuringLeaveProcessTests</c> seeds 201 and 203; without the empty holder's search for its parcel the job
/// restarted from its initial weights) — and s0's own silo is lost right there; then the leave goes on. The job must restore the counted
/// step from memory, recompute nothing, and keep the reference losses to the bit.
/// </summary>
public sealed class SnapshotHolderLeaveMomentTests(CoordinatorStopClusterFixture fixture, ITestOutputHelper output) : IClassFixture<CoordinatorStopClusterFixture>
{
    private const string AskedToLeave = "the holder asked to leave";
    private const string TakingItsCopies = "its new activation taking its copies from the parcel";
    private const string DroppingTheParcel = "the copies taken, the parcel being dropped";
    private const string FailingToTake = "its new activation failing to take its copies";

    [Theory]
    [InlineData(AskedToLeave)]
    [InlineData(TakingItsCopies)]
    [InlineData(DroppingTheParcel)]
    [InlineData(FailingToTake)]
    public async Task Losing_a_stages_silo_at_any_moment_of_its_holders_leave_costs_no_completed_step(string moment)
    {
        var run = await S0sHolderAloneOnALeavingSilo(Array.IndexOf([AskedToLeave, TakingItsCopies, DroppingTheParcel, FailingToTake], moment).ToString(CultureInfo.InvariantCulture));
        var holderId = run.Holder.GetGrainId();
        fixture.Moment.Arm(moment switch
        {
            AskedToLeave => call => call.TargetId == holderId && call.InterfaceMethod.Name == nameof(ICheckpointShardGrain.LeaveShuttingDownSilo),
            TakingItsCopies or FailingToTake => call => call.SourceId == holderId && call.InterfaceMethod.Name == nameof(IMigrationParcelGrain.TakeChunk),
            _ => call => call.SourceId == holderId && call.InterfaceMethod.Name == nameof(IMigrationParcelGrain.Drop),
        });
        var stopping = fixture.Cluster.StopSiloAsync(run.Leaving); // graceful
        string heldMoment = await fixture.Moment.Reached.WaitAsync(TimeSpan.FromMinutes(1));
        output.WriteLine($"{run.Leaving.Name} leaving, held at {moment} ({heldMoment}); the job counted step {run.Counted}; losing {run.StageSilo}, s0's silo");

        await fixture.Cluster.KillSiloAsync(SnapshotRedundancyCluster.Silo(fixture, run.StageSilo));
        fixture.Outgoing.Fail(new SiloUnavailableException($"injected: {run.HeldSnapshot} was lost with {run.StageSilo}"));
        // Failing: the new activation comes up empty, as one that could not register (its directory range's silo just
        // killed) is re-created empty — its copies stay in the parcel on the leaving silo, which the job's next ask must find.
        if (moment == FailingToTake) fixture.Moment.Fail(new OrleansException("injected: the holder's new activation could not take its copies"));
        else fixture.Moment.Release();
        await stopping.WaitAsync(TimeSpan.FromMinutes(1));
        Assert.True(LeavesLogged(run) == 1, $"s0's holder did not move off the leaving silo:{Environment.NewLine}{fixture.Logs.Dump(run.Leaving)}");
        await RunsOnWithoutLosingAStep(run);
    }

    /// <summary>
    /// A holder that comes to a leaving silo after the silo's evacuation passes — while the host's drain still holds the
    /// stop (here a gate in the same stop stage), placed by a silo that cannot know the other is leaving — moves on by
    /// itself with its copies, and the silo's stop waits, after the whole Active stage, until its new activation has
    /// taken them (that take held until the stop is past the drain); losing its stage's silo next costs no step. Before,
    /// it stayed and its copies left with the silo. Meanwhile a holder placed by the leaving silo itself goes elsewhere.
    /// </summary>
    [Fact]
    public async Task A_holder_that_comes_to_a_leaving_silo_after_its_evacuation_moves_on_with_its_copies()
    {
        var run = await S0sHolderAloneOnALeavingSilo("late");
        fixture.Leave.Arm(run.Leaving.Name);
        var stopping = fixture.Cluster.StopSiloAsync(run.Leaving); // graceful; held in its Active stage once the evacuation ran
        try
        {
            await fixture.Leave.Reached.WaitAsync(TimeSpan.FromMinutes(1));
            await Eventually.True(() => Task.FromResult(fixture.Logs.Of(run.Leaving, "LogEvacuated").Count > 0), TimeSpan.FromMinutes(1),
                $"the leaving silo's evacuation to end{Environment.NewLine}{fixture.Logs.Dump(run.Leaving)}");
            Assert.True(LeavesLogged(run) == 1, $"s0's holder did not move off the leaving silo:{Environment.NewLine}{fixture.Logs.Dump(run.Leaving)}");

            // A holder placed by the leaving silo itself goes elsewhere, even one whose key picks that silo among the active ones.
            string[] active = [.. fixture.Cluster.Silos.Select(s => s.Name).Order(StringComparer.Ordinal)];
            string fresh = Enumerable.Range(0, 100).Select(i => $"placed-while-leaving-{i}")
                .First(id => active[SnapshotHolderPlacementDirector.HomeIndex(StageKeys.Shard(id, 0), active.Length)] == run.Leaving.Name);
            var placed = run.Leaving.ServiceProvider.GetRequiredService<IGrainFactory>().GetGrain<ICheckpointShardGrain>(StageKeys.Shard(fresh, 0));
            await placed.GetLatestStep();
            Assert.True(fixture.HostOf(placed) is { } placedOn && placedOn != run.Leaving.Name,
                $"a holder placed by the leaving {run.Leaving.Name} was placed on {fixture.HostOf(placed) ?? "no silo"}");

            // Back to the leaving silo, as a placement on another silo may send it (that silo sees it Active). Its next
            // activation's take of the copies it then leaves there is held.
            var holderId = run.Holder.GetGrainId();
            string leavingParcels = run.Leaving.SiloAddress.ToParsableString();
            fixture.Moment.Arm(call => call.SourceId == holderId && call.InterfaceMethod.Name == nameof(IMigrationParcelGrain.TakeChunk)
                && call.TargetId.Key.ToString() == leavingParcels);
            await Eventually.True(async () =>
            {
                if (LeavesLogged(run) >= 2) return true;
                if (fixture.HostOf(run.Holder) != run.Leaving.Name)
                {
                    try
                    {
                        await fixture.Cluster.MigrateAsync(run.Holder, run.Leaving.SiloAddress).WaitAsync(TimeSpan.FromSeconds(10));
                    }
                    catch (TimeoutException)
                    {
                        // the testing host's migration can hang; asked again
                    }
                }
                return LeavesLogged(run) >= 2;
            }, TimeSpan.FromMinutes(1), $"s0's holder, moved back to the leaving {run.Leaving.Name} after its evacuation, to move on by itself"
                + $"{Environment.NewLine}{fixture.Logs.Dump(run.Leaving)}");
            string held = await fixture.Moment.Reached.WaitAsync(TimeSpan.FromMinutes(1));
            output.WriteLine($"s0's holder came back to {run.Leaving.Name} after its evacuation and moved on; its copies' take held ({held})");
        }
        finally
        {
            fixture.Leave.Open();
        }
        // The stop goes past the drain's stage; it must wait for the held take, not leave with the copies.
        await Eventually.True(() => Task.FromResult(stopping.IsCompleted || fixture.Logs.Of(run.Leaving, "LogWaitingForLateParcels").Count > 0),
            TimeSpan.FromMinutes(1), "the leaving silo to stop or to wait for the late holder's parcel");
        fixture.Moment.Release();
        await stopping.WaitAsync(TimeSpan.FromMinutes(1));
        string? holderNow = fixture.HostOf(run.Holder);
        output.WriteLine($"{run.Leaving.Name} left; s0's holder is on {holderNow ?? "no silo"}");
        Assert.True(holderNow != run.StageSilo, $"s0's holder is on {holderNow} after {run.Leaving.Name} left, with s0");

        await fixture.Cluster.KillSiloAsync(SnapshotRedundancyCluster.Silo(fixture, run.StageSilo));
        fixture.Outgoing.Fail(new SiloUnavailableException($"injected: {run.HeldSnapshot} was lost with {run.StageSilo}"));
        await RunsOnWithoutLosingAStep(run);
    }

    private sealed record Run(ITrainingJobGrain Job, JobSpec Spec, ICheckpointShardGrain Holder, InProcessSiloHandle Leaving, string StageSilo, string HeldSnapshot, long Counted);

    /// <summary>
    /// A 2-stage job with stages on two silos and s0's holder alone on a third (the one to leave), s0's next snapshot held
    /// on its way (no newer copy re-creates the holder elsewhere meanwhile). The primary keeps the job and its history.
    /// </summary>
    private async Task<Run> S0sHolderAloneOnALeavingSilo(string name)
    {
        var cluster = fixture.Cluster;
        while (cluster.Silos.Count < 4) await cluster.StartAdditionalSiloAsync(); // an earlier case left two silos fewer
        string[] others = [.. cluster.Silos.Skip(1).Select(s => s.Name)];
        var leaving = SnapshotRedundancyCluster.Silo(fixture, others[2]);

        var spec = TinyJob.Spec($"holder-leave-{name}", stages: 2, steps: 5000, checkpointInterval: 5000) with { SnapshotInterval = 1 };
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        var (_, holder, stageSilo) = await SnapshotRedundancyCluster.S0sHolderOn(fixture, spec, [others[0], others[1]], leaving);

        var s0 = fixture.Client.GetGrain<IPipelineStageGrain>(StageKeys.Stage(spec.JobId, 0, 0)).GetGrainId();
        fixture.Outgoing.Arm(call => call.SourceId == s0 && call.TargetId.Type.ToString() == "checkpointshard");
        string heldSnapshot = await fixture.Outgoing.Reached.WaitAsync(TimeSpan.FromMinutes(1));
        long counted = (await job.GetStatus()).CompletedSteps;
        long kept = await holder.GetLatestStep();
        Assert.True(kept >= counted, $"s0's holder keeps step {kept}, the job counted {counted}");
        return new Run(job, spec, holder, leaving, stageSilo, heldSnapshot, counted);
    }

    /// <summary>How many times the leaving silo logged s0's holder moving off it.</summary>
    private int LeavesLogged(Run run) =>
        fixture.Logs.Of(run.Leaving, "LogLeavingShuttingDownSilo").Count(l => l.Message.Contains(StageKeys.Shard(run.Spec.JobId, 0), StringComparison.Ordinal));

    /// <summary>After s0's silo was lost: a fresh silo joins, the job runs on, restores from memory and keeps the reference losses.</summary>
    private async Task RunsOnWithoutLosingAStep(Run run)
    {
        await fixture.Cluster.StartAdditionalSiloAsync();
        await SnapshotRedundancyCluster.OpenOnly(fixture, [.. fixture.Cluster.Silos.Skip(1).Select(s => s.Name)]);
        await SnapshotRedundancyCluster.StepsPast(run.Job, run.Counted, 3, $"the job to run on after losing {run.StageSilo}");

        var end = await SnapshotRedundancyCluster.Reliably(run.Job.Cancel, "the job to cancel");
        Assert.True(end.State is JobState.Cancelled or JobState.Running or JobState.Checkpointing, $"job is {end.State}: {end.Error}");
        var history = await JobHistory.All(fixture, run.Spec.JobId);
        string story = JobHistory.Told(history.Where(e => e.StepsLost > 0 || e.Kind is ClusterEventKind.JobRestored or ClusterEventKind.JobResumed));
        output.WriteLine(story);
        RecoveryAssert.CostNoCompletedStep(history, story);
        var losses = await SnapshotRedundancyCluster.Reliably(run.Job.GetLossHistory, "the loss history");
        Assert.Equal(TinyJob.ReferenceLosses(run.Spec, losses.Count).Select(BitConverter.DoubleToInt64Bits), losses.Select(BitConverter.DoubleToInt64Bits));
    }
}
