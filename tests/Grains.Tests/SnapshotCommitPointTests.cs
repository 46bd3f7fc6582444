using Xunit.Abstractions;
using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;

namespace Cluster.Grains.Tests;

/// <summary>
/// The commit point of issue 16: a step counts only once every stage's snapshot of it is held away from the stage.
/// A stage's silo lost after the stage applied its update but before its snapshot reached a holder held the new state
/// alone; the job must not have counted that step, so the loss costs no completed step.
/// </summary>
public sealed class SnapshotCommitPointTests(SnapshotCommitPointTests.Fixture fixture, ITestOutputHelper output) : IClassFixture<SnapshotCommitPointTests.Fixture>
{
    /// <summary>A cluster of its own (the test loses a silo) whose silos hold back the snapshot copies the test arms.</summary>
    public sealed class Fixture() : ClusterFixture(4)
    {
        public SnapshotAcceptTrap Trap { get; } = new();

        protected override ISiloBuilder ConfigureSilo(ISiloBuilder silo) => silo.AddIncomingGrainCallFilter(Trap);
    }

    [Fact]
    public async Task A_stage_silo_lost_between_its_update_and_its_snapshot_being_held_costs_no_completed_step()
    {
        await using var collector = await EventCollector.StartAsync(fixture.Client);
        var spec = TinyJob.Spec("commit-point", stages: 2, steps: 5000, checkpointInterval: 5000) with { SnapshotInterval = 1 };
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        await SnapshotRedundancyCluster.KeepCoordinatorsOnPrimary(fixture, job);
        await SnapshotRedundancyCluster.OpenOnly(fixture, [.. fixture.Cluster.Silos.Skip(1).Select(s => s.Name)]); // stage hosts can be lost
        await job.Submit(spec);
        var running = await SnapshotRedundancyCluster.StepsPast(job, 0, 3, "the job to run 3 steps");
        Assert.True(running.State is JobState.Running or JobState.Checkpointing, $"job is {running.State}: {running.Error}");

        // Stage s1's snapshot of a step two ahead is held back on its way to the holders: s1 has applied that step's
        // update, and its new state lives only on its own silo.
        long trapped = running.CompletedSteps + 2;
        fixture.Trap.Arm(spec.JobId, stage: 1, step: trapped);
        await fixture.Trap.Reached.WaitAsync(TimeSpan.FromMinutes(2));
        var waiting = await job.GetStatus();
        Assert.True(waiting.CompletedSteps < trapped, $"step {trapped} counted (completed steps {waiting.CompletedSteps}) before stage s1's snapshot of it was held");
        string victim = waiting.Placement.Single(p => p.Stage == 1).SiloName;
        Assert.NotEqual(fixture.Cluster.Silos[0].Name, victim);

        await fixture.Cluster.KillSiloAsync(SnapshotRedundancyCluster.Silo(fixture, victim));
        fixture.Trap.Release();
        await fixture.Cluster.StartAdditionalSiloAsync();
        await SnapshotRedundancyCluster.OpenOnly(fixture, [.. fixture.Cluster.Silos.Skip(1).Select(s => s.Name)]);
        await SnapshotRedundancyCluster.StepsPast(job, trapped, 2, $"the job to recover from losing {victim} and run past step {trapped}");
        await Eventually.True(() => Task.FromResult(collector.Events.Any(e => e.JobId == spec.JobId && e.Kind == ClusterEventKind.JobResumed)),
            TimeSpan.FromSeconds(60), "the JobResumed event");

        var end = await SnapshotRedundancyCluster.Reliably(job.Cancel, "the job to cancel");
        var recovery = collector.Events.Where(e => e.JobId == spec.JobId && e.Kind is ClusterEventKind.JobRestored or ClusterEventKind.JobResumed).ToArray();
        string story = $"lost {victim} with step {trapped} unheld; " + string.Join(" | ", recovery.Select(e => $"{e.Kind} step {e.Step} lost {e.StepsLost}: {e.Message}"));
        output.WriteLine(story);
        var restored = Assert.Single(recovery, e => e.Kind == ClusterEventKind.JobRestored);
        Assert.True(restored.Message.StartsWith("restored from the in-memory snapshots", StringComparison.Ordinal), story);
        Assert.Equal(trapped - 1, restored.Step);
        Assert.All(recovery, e => Assert.True(e.StepsLost == 0, $"{e.Kind} lost {e.StepsLost} completed steps. {story}"));
        var losses = await SnapshotRedundancyCluster.Reliably(job.GetLossHistory, "the loss history");
        Assert.True(losses.Count > trapped, $"only {losses.Count} steps ran. {story}");
        Assert.Equal(TinyJob.ReferenceLosses(spec, losses.Count).Select(BitConverter.DoubleToInt64Bits), losses.Select(BitConverter.DoubleToInt64Bits));
        Assert.True(end.State is JobState.Cancelled or JobState.Running or JobState.Checkpointing, $"job is {end.State}: {end.Error}");
    }
}
