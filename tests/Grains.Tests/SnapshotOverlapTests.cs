using Xunit.Abstractions;
using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;

namespace Cluster.Grains.Tests;

/// <summary>
/// Issue 16's commit point with zero-stall snapshots: once every stage has copied its state of step N off the device,
/// step N+1 computes while N's snapshot is encoded and sent to its holders; N counts only once every stage's snapshot
/// of it is held away from the stage, and N+1 not before N. A stage's silo lost in that window — its update of N
/// applied and N+1 computed on it, N's snapshot held back on the way to a holder, so the new state lives on that silo
/// alone — must cost no counted step.
/// </summary>
public sealed class SnapshotOverlapTests(SnapshotOverlapTests.Fixture fixture, ITestOutputHelper output) : IClassFixture<SnapshotOverlapTests.Fixture>
{
    /// <summary>A cluster of its own (the test loses a silo) whose silos hold back the snapshot copies the test arms.</summary>
    public sealed class Fixture() : ClusterFixture(4)
    {
        public SnapshotAcceptTrap Trap { get; } = new();

        protected override ISiloBuilder ConfigureSilo(ISiloBuilder silo) => silo.AddIncomingGrainCallFilter(Trap);
    }

    [Fact]
    public async Task The_next_step_computes_while_a_snapshot_is_on_its_way_and_a_failure_then_recomputes_no_counted_step()
    {
        var spec = TinyJob.Spec("snapshot-overlap", stages: 2, steps: 5000, checkpointInterval: 5000) with { SnapshotInterval = 1 };
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        await SnapshotRedundancyCluster.KeepCoordinatorsOnPrimary(fixture, job);
        await SnapshotRedundancyCluster.OpenOnly(fixture, [.. fixture.Cluster.Silos.Skip(1).Select(s => s.Name)]); // stage hosts can be lost
        await job.Submit(spec);
        var running = await SnapshotRedundancyCluster.StepsPast(job, 0, 3, "the job to run 3 steps");
        Assert.True(running.State is JobState.Running or JobState.Checkpointing, $"job is {running.State}: {running.Error}");

        // Stage s1's snapshot of the state after `trapped` steps is held back on its way to the holders. The step that
        // starts from that state (step index `trapped`) must still compute and apply its update on s1 meanwhile.
        long trapped = running.CompletedSteps + 2;
        fixture.Trap.Arm(spec.JobId, stage: 1, step: trapped);
        await fixture.Trap.Reached.WaitAsync(TimeSpan.FromMinutes(2));
        await fixture.Trap.NextStepUpdated.WaitAsync(TimeSpan.FromMinutes(2));
        var waiting = await job.GetStatus();
        // Neither the step whose snapshot is held back nor the one computed meanwhile counted; the one before did.
        Assert.Equal(trapped - 1, waiting.CompletedSteps);
        string victim = waiting.Placement.Single(p => p.Stage == 1).SiloName;
        Assert.NotEqual(fixture.Cluster.Silos[0].Name, victim);

        // s1's silo is lost with two uncounted steps applied on it: the state after `trapped` and `trapped + 1` steps.
        await fixture.Cluster.KillSiloAsync(SnapshotRedundancyCluster.Silo(fixture, victim));
        fixture.Trap.Release();
        await fixture.Cluster.StartAdditionalSiloAsync();
        await SnapshotRedundancyCluster.OpenOnly(fixture, [.. fixture.Cluster.Silos.Skip(1).Select(s => s.Name)]);
        await SnapshotRedundancyCluster.StepsPast(job, trapped, 3, $"the job to recover from losing {victim} and run past step {trapped + 1}");
        // The job's recorded history, kept on the primary: the live stream's queue may have lived on the lost silo.
        await Eventually.True(async () => (await SnapshotRedundancyCluster.Recorded(fixture, spec.JobId, ClusterEventKind.JobResumed)).Length > 0,
            TimeSpan.FromSeconds(60), "a JobResumed event in the job's history");

        var end = await SnapshotRedundancyCluster.Reliably(job.Cancel, "the job to cancel");
        var recovery = (await SnapshotRedundancyCluster.Recorded(fixture, spec.JobId, ClusterEventKind.JobRestored))
            .Concat(await SnapshotRedundancyCluster.Recorded(fixture, spec.JobId, ClusterEventKind.JobResumed)).ToArray();
        string story = $"lost {victim} with step {trapped} unheld; " + string.Join(" | ", recovery.Select(e => $"{e.Kind} step {e.Step} lost {e.StepsLost}: {e.Message}"));
        output.WriteLine(story);
        var restored = Assert.Single(recovery, e => e.Kind == ClusterEventKind.JobRestored);
        Assert.Equal(trapped - 1, restored.Step);
        RecoveryAssert.CostNoCompletedStep(recovery, story);
        var losses = await SnapshotRedundancyCluster.Reliably(job.GetLossHistory, "the loss history");
        Assert.True(losses.Count > trapped + 1, $"only {losses.Count} steps ran. {story}");
        Assert.Equal(TinyJob.ReferenceLosses(spec, losses.Count).Select(BitConverter.DoubleToInt64Bits), losses.Select(BitConverter.DoubleToInt64Bits));
        Assert.True(end.State is JobState.Cancelled or JobState.Running or JobState.Checkpointing, $"job is {end.State}: {end.Error}");
    }
}
