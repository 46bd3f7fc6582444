using Xunit.Abstractions;
using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Stages;
using Orleans.Runtime;

namespace Cluster.Grains.Tests;

/// <summary>
/// Rule (6) of the redundancy invariant (<c>CheckpointShardGrain.LeaveShuttingDownSilo</c>) at every moment of a holder's
/// leave, not only after it: a graceful leave is no failure, so a silo lost in its middle is a single failure and must
/// cost no completed step. s0's holder is alone on a silo that shuts down gracefully while s0's next snapshot is held on
/// its way (no newer copy re-creates the holder meanwhile); the leave is held at one of its moments — before the holder
/// is asked to go, while its new activation takes its copies from the parcel the leaving silo keeps, after it took them
/// and drops the parcel — and s0's own silo is lost right there; then the leave goes on. The job must restore the counted
/// step from memory, recompute nothing, and keep the reference losses to the bit.
/// </summary>
public sealed class SnapshotHolderLeaveMomentTests(CoordinatorStopClusterFixture fixture, ITestOutputHelper output) : IClassFixture<CoordinatorStopClusterFixture>
{
    private const string AskedToLeave = "the holder asked to leave";
    private const string TakingItsCopies = "its new activation taking its copies from the parcel";
    private const string DroppingTheParcel = "the copies taken, the parcel being dropped";

    [Theory]
    [InlineData(AskedToLeave)]
    [InlineData(TakingItsCopies)]
    [InlineData(DroppingTheParcel)]
    public async Task Losing_a_stages_silo_at_any_moment_of_its_holders_leave_costs_no_completed_step(string moment)
    {
        var cluster = fixture.Cluster;
        while (cluster.Silos.Count < 4) await cluster.StartAdditionalSiloAsync(); // an earlier case left two silos fewer
        string[] others = [.. cluster.Silos.Skip(1).Select(s => s.Name)]; // never the primary: it keeps the job and its history
        string[] stageSilos = [others[0], others[1]];
        var leaving = SnapshotRedundancyCluster.Silo(fixture, others[2]);

        var spec = TinyJob.Spec($"holder-leave-{Array.IndexOf([AskedToLeave, TakingItsCopies, DroppingTheParcel], moment)}", stages: 2, steps: 5000, checkpointInterval: 5000)
            with { SnapshotInterval = 1 };
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        await SnapshotRedundancyCluster.KeepCoordinatorsOnPrimary(fixture, job);
        await JobHistory.KeepOnPrimary(fixture, spec.JobId);
        await SnapshotRedundancyCluster.OpenOnly(fixture, stageSilos);
        await job.Submit(spec);
        var status = await SnapshotRedundancyCluster.StepsPast(job, 0, 3, "the job to run 3 steps");
        var holder = SnapshotRedundancyCluster.Holder(fixture, spec.JobId, 0);
        await fixture.MoveGrainAsync(holder, leaving, holder.GetLatestStep);
        status = await SnapshotRedundancyCluster.StepsPast(job, status.CompletedSteps, 2, $"2 steps with s0's holder on {leaving.Name}");
        Assert.Equal(leaving.Name, fixture.HostOf(holder));
        string stageSilo = status.Placement.Single(p => p.Replica == 0 && p.Stage == 0).SiloName;

        var s0 = fixture.Client.GetGrain<IPipelineStageGrain>(StageKeys.Stage(spec.JobId, 0, 0)).GetGrainId();
        fixture.Outgoing.Arm(call => call.SourceId == s0 && call.TargetId.Type.ToString() == "checkpointshard");
        string heldSnapshot = await fixture.Outgoing.Reached.WaitAsync(TimeSpan.FromMinutes(1));
        long counted = (await job.GetStatus()).CompletedSteps;
        long kept = await holder.GetLatestStep();
        Assert.True(kept >= counted, $"s0's holder keeps step {kept}, the job counted {counted}");

        var holderId = holder.GetGrainId();
        fixture.Moment.Arm(moment switch
        {
            AskedToLeave => call => call.TargetId == holderId && call.InterfaceMethod.Name == "LeaveShuttingDownSilo",
            TakingItsCopies => call => call.SourceId == holderId && call.InterfaceMethod.Name == "TakeChunk",
            _ => call => call.SourceId == holderId && call.InterfaceMethod.Name == "Drop",
        });
        var stopping = cluster.StopSiloAsync(leaving); // graceful
        string heldMoment = await fixture.Moment.Reached.WaitAsync(TimeSpan.FromMinutes(1));
        output.WriteLine($"{leaving.Name} leaving, held at {moment} ({heldMoment}); the job counted step {counted}, s0's holder keeps {kept}; losing {stageSilo}, s0's silo");

        await cluster.KillSiloAsync(SnapshotRedundancyCluster.Silo(fixture, stageSilo));
        fixture.Outgoing.Fail(new SiloUnavailableException($"injected: {heldSnapshot} was lost with {stageSilo}"));
        fixture.Moment.Release();
        await stopping.WaitAsync(TimeSpan.FromMinutes(1));
        var moved = fixture.Logs.Of(leaving, "LogLeavingShuttingDownSilo").Where(l => l.Message.Contains(StageKeys.Shard(spec.JobId, 0), StringComparison.Ordinal)).ToArray();
        Assert.True(moved.Length == 1, $"s0's holder did not move off the leaving silo:{Environment.NewLine}{fixture.Logs.Dump(leaving)}");

        await cluster.StartAdditionalSiloAsync();
        await SnapshotRedundancyCluster.OpenOnly(fixture, [.. cluster.Silos.Skip(1).Select(s => s.Name)]);
        await SnapshotRedundancyCluster.StepsPast(job, counted, 3, $"the job to run on after losing {stageSilo}");

        var end = await SnapshotRedundancyCluster.Reliably(job.Cancel, "the job to cancel");
        Assert.True(end.State is JobState.Cancelled or JobState.Running or JobState.Checkpointing, $"job is {end.State}: {end.Error}");
        var history = await JobHistory.All(fixture, spec.JobId);
        string story = JobHistory.Told(history.Where(e => e.StepsLost > 0 || e.Kind is ClusterEventKind.JobRestored or ClusterEventKind.JobResumed));
        output.WriteLine(story);
        RecoveryAssert.CostNoCompletedStep(history, story);
        var losses = await SnapshotRedundancyCluster.Reliably(job.GetLossHistory, "the loss history");
        Assert.Equal(TinyJob.ReferenceLosses(spec, losses.Count).Select(BitConverter.DoubleToInt64Bits), losses.Select(BitConverter.DoubleToInt64Bits));
    }
}
