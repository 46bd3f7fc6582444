using Xunit.Abstractions;
using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;

namespace Cluster.Grains.Tests;

/// <summary>
/// Rule (6) with nowhere better to go: in a cluster of two silos, a holder on the silo that leaves has only its stage's
/// silo to move to, which is no better a place (one failure would take both copies there too) — and there its own check
/// would send it straight back to the leaving silo, still Active in membership until its stop's next stage: back and
/// forth, its copies left in parcels nobody takes, the stop waiting for them (seen in Silo.Tests' two-silo graceful
/// shutdown, 2026-12-06). So it stays; the leave completes at once and costs the job no completed step.
/// </summary>
public sealed class TwoSiloHolderLeaveTests(TwoSiloLeaveClusterFixture fixture, ITestOutputHelper output) : IClassFixture<TwoSiloLeaveClusterFixture>
{
    [Fact]
    public async Task A_holder_with_only_its_stages_silo_to_go_to_stays_on_the_leaving_silo_and_the_leave_costs_no_step()
    {
        var cluster = fixture.Cluster;
        var primary = cluster.Silos[0];
        var leaving = cluster.Silos[1];
        var spec = TinyJob.Spec("two-silo-leave", stages: 2, steps: 5000, checkpointInterval: 5000) with { SnapshotInterval = 1 };
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        await SnapshotRedundancyCluster.KeepCoordinatorsOnPrimary(fixture, job);
        await JobHistory.KeepOnPrimary(fixture, spec.JobId);
        await SnapshotRedundancyCluster.OpenOnly(fixture, [leaving.Name]); // both stages on the silo that leaves, their holders on the primary
        await job.Submit(spec);
        var running = await SnapshotRedundancyCluster.StepsPast(job, 0, 3, "the job to run 3 steps");
        await SnapshotRedundancyCluster.OpenOnly(fixture, [primary.Name, leaving.Name]);
        // s1 moves to the primary; its holder there moves off it — to the only other silo, the one about to leave.
        var (moved, told) = await SnapshotRedundancyCluster.MoveStage(fixture, job, running, 0, 1);
        output.WriteLine(told);
        var s1Holder = SnapshotRedundancyCluster.Holder(fixture, spec.JobId, 1);
        await Eventually.True(async () => { await s1Holder.GetLatestStep(); return fixture.HostOf(s1Holder) == leaving.Name; }, TimeSpan.FromMinutes(1),
            $"s1's holder to move to {leaving.Name}, away from s1 on {primary.Name}");
        long counted = (await job.GetStatus()).CompletedSteps;

        await cluster.StopSiloAsync(leaving); // graceful; s0 goes with it (an in-memory silo has no drain), its holder is on the primary
        string log = fixture.Logs.Dump(leaving);
        Assert.True(fixture.Logs.Of(leaving, "LogLeavingShuttingDownSilo").Count == 0,
            $"a holder moved off {leaving.Name} onto its stage's silo, the only other one:{Environment.NewLine}{log}");
        Assert.True(fixture.Logs.Of(leaving, "LogEvacuationTimedOut").Count == 0, $"the leave waited for copies nobody took:{Environment.NewLine}{log}");

        await SnapshotRedundancyCluster.StepsPast(job, counted, 3, $"the job to run on after {leaving.Name} left");
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
