using Xunit.Abstractions;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Stages;
using Orleans.Runtime;

namespace Cluster.Grains.Tests;

/// <summary>
/// Rule (6) of the redundancy invariant (<c>CheckpointShardGrain.LeaveShuttingDownSilo</c>): a graceful leave is no
/// failure and takes no copy with it. A silo that runs only a stage's snapshot holder shuts down while the stage's next
/// snapshot is held on its way (so no newer copy re-creates the holder elsewhere meanwhile); then the stage's own silo is
/// lost. With the holder moved off the leaving silo with its copies, the job restores the counted step from memory and
/// recomputes nothing; with the copies gone with the silo (before rule 6), it restarted from its initial weights.
/// </summary>
public sealed class SnapshotHolderEvacuationTests(CoordinatorStopClusterFixture fixture, ITestOutputHelper output) : IClassFixture<CoordinatorStopClusterFixture>
{
    [Fact]
    public async Task A_holder_whose_silo_shuts_down_takes_its_copies_along_so_losing_its_stages_silo_next_costs_no_step()
    {
        var spec = TinyJob.Spec("holder-evacuation", stages: 2, steps: 5000, checkpointInterval: 5000) with { SnapshotInterval = 1 };
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        // Stages only on Silo_1 and Silo_2; Silo_3 runs none and takes s0's holder, then leaves.
        var leaving = SnapshotRedundancyCluster.Silo(fixture, "Silo_3");
        var (_, holder, stageSilo) = await SnapshotRedundancyCluster.S0sHolderOn(fixture, spec, ["Silo_1", "Silo_2"], leaving);
        // Asked in the name of a silo it is not on (it moved after that silo listed it), a holder stays where it is.
        Assert.False(await holder.LeaveShuttingDownSilo(SnapshotRedundancyCluster.Silo(fixture, stageSilo).SiloAddress.ToParsableString()));
        await holder.GetLatestStep(); // reaches it wherever it is (after a move it would have started)
        Assert.Equal(leaving.Name, fixture.HostOf(holder));

        // s0's next snapshot is held before it leaves s0's silo: the holder keeps the steps it has, and no newer copy
        // re-creates it elsewhere while its silo leaves.
        var s0 = fixture.Client.GetGrain<IPipelineStageGrain>(StageKeys.Stage(spec.JobId, 0, 0)).GetGrainId();
        fixture.Outgoing.Arm(call => call.SourceId == s0 && call.TargetId.Type.ToString() == "checkpointshard");
        string heldCall = await fixture.Outgoing.Reached.WaitAsync(TimeSpan.FromMinutes(1));
        long counted = (await job.GetStatus()).CompletedSteps;
        long kept = await holder.GetLatestStep();
        output.WriteLine($"held {heldCall}; the job counted step {counted}, s0's holder on {leaving.Name} keeps step {kept}");
        Assert.True(kept >= counted, $"s0's holder keeps step {kept}, the job counted {counted}");

        await fixture.Cluster.StopSiloAsync(leaving); // graceful
        var moved = fixture.Logs.Of(leaving, "LogLeavingShuttingDownSilo").Where(l => l.Message.Contains(StageKeys.Shard(spec.JobId, 0), StringComparison.Ordinal)).ToArray();
        Assert.True(moved.Length == 1, $"s0's holder did not move off the leaving silo:{Environment.NewLine}{fixture.Logs.Dump(leaving)}");
        string? holderNow = fixture.HostOf(holder);
        output.WriteLine($"{leaving.Name} left; s0's holder is on {holderNow ?? "no silo"}; losing {stageSilo}, s0's silo");
        Assert.True(holderNow is not null && holderNow != stageSilo, $"s0's holder is on {holderNow ?? "no silo"} after {leaving.Name} left (s0 is on {stageSilo})");

        await fixture.Cluster.KillSiloAsync(SnapshotRedundancyCluster.Silo(fixture, stageSilo));
        fixture.Outgoing.Fail(new SiloUnavailableException($"injected: {heldCall} was lost with {stageSilo}"));
        await fixture.Cluster.StartAdditionalSiloAsync();
        await SnapshotRedundancyCluster.OpenOnly(fixture, [.. fixture.Cluster.Silos.Skip(1).Select(s => s.Name)]);
        await SnapshotRedundancyCluster.StepsPast(job, counted, 3, $"the job to run on after losing {stageSilo}");

        var end = await SnapshotRedundancyCluster.Reliably(job.Cancel, "the job to cancel");
        Assert.True(end.State is JobState.Cancelled or JobState.Running or JobState.Checkpointing, $"job is {end.State}: {end.Error}");
        var history = await JobHistory.All(fixture, spec.JobId);
        string story = JobHistory.Told(history.Where(e => e.StepsLost > 0 || e.Kind is Interfaces.Events.ClusterEventKind.JobRestored or Interfaces.Events.ClusterEventKind.JobResumed));
        output.WriteLine(story);
        RecoveryAssert.CostNoCompletedStep(history, story);
        var losses = await SnapshotRedundancyCluster.Reliably(job.GetLossHistory, "the loss history");
        Assert.Equal(TinyJob.ReferenceLosses(spec, losses.Count).Select(BitConverter.DoubleToInt64Bits), losses.Select(BitConverter.DoubleToInt64Bits));
    }
}
