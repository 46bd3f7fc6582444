using Xunit.Abstractions;
using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;

namespace Cluster.Grains.Tests;

/// <summary>
/// The "s0: none" recoveries of issue 16: a silo that holds only snapshot copies (it runs no stage) is lost while a
/// stage hands it a snapshot. The stage must re-create its holder on a live silo and go on — a holder's loss is no
/// failure of the job — rather than fail the snapshot with Orleans' "target silo unavailable" error, whose text names
/// the stage's own silo as the sender: the job then reported that healthy node unreachable, moved the stage, and with
/// its only other copy gone restarted from the initial weights.
/// </summary>
public sealed class SnapshotHolderOnlyKillTests(SnapshotHolderOnlyKillTests.Fixture fixture, ITestOutputHelper output) : IClassFixture<SnapshotHolderOnlyKillTests.Fixture>
{
    /// <summary>A cluster of its own: the test loses and replaces silos.</summary>
    public sealed class Fixture() : ClusterFixture(4);

    [Fact]
    public async Task Losing_a_silo_that_holds_every_stages_snapshot_copies_and_runs_no_stage_costs_no_recovery()
    {
        var spec = TinyJob.Spec("holder-only-kills", stages: 2, steps: 5000, checkpointInterval: 5000) with { SnapshotInterval = 1 };
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        await SnapshotRedundancyCluster.KeepCoordinatorsOnPrimary(fixture, job);
        // Stages only on Silo_1 and Silo_2; the fourth silo (and each fresh one after it) runs none and is lost next.
        string[] stageSilos = ["Silo_1", "Silo_2"];
        await SnapshotRedundancyCluster.OpenOnly(fixture, stageSilos);
        await job.Submit(spec);
        long last = 0;
        var kills = new List<string>();
        for (int round = 0; round < 6; round++)
        {
            var status = await SnapshotRedundancyCluster.StepsPast(job, last, 2, $"the job to run 2 steps past step {last} (round {round})");
            Assert.True(status.State is JobState.Running or JobState.Checkpointing, $"round {round}: job is {status.State}: {status.Error}");
            var stageHosts = status.Placement.Select(p => p.SiloName).ToHashSet(StringComparer.Ordinal);
            var victim = fixture.Cluster.Silos.Skip(1).First(s => !stageHosts.Contains(s.Name));
            // Every stage's holder onto the victim, so the snapshot of each step is in flight to it when it dies.
            for (int stage = 0; stage < spec.Stages; stage++)
            {
                var holder = SnapshotRedundancyCluster.Holder(fixture, spec.JobId, stage);
                await fixture.MoveGrainAsync(holder, victim, holder.GetLatestStep);
            }
            last = (await SnapshotRedundancyCluster.StepsPast(job, status.CompletedSteps, 2, $"the job to run with its holders on {victim.Name} (round {round})")).CompletedSteps;
            kills.Add(victim.Name);
            await fixture.Cluster.KillSiloAsync(victim);
            await fixture.Cluster.StartAdditionalSiloAsync();
            await SnapshotRedundancyCluster.OpenOnly(fixture, stageSilos);
            last = (await SnapshotRedundancyCluster.StepsPast(job, last, 3, $"the job to run on after losing {victim.Name} (round {round})")).CompletedSteps;

            // Both copies again, on two silos: each holder was re-created away from its stage and holds a recent step.
            var now = await SnapshotRedundancyCluster.Reliably(job.GetStatus, "the job's status");
            foreach (var p in now.Placement)
            {
                var holder = SnapshotRedundancyCluster.Holder(fixture, spec.JobId, p.Stage);
                long held = await SnapshotRedundancyCluster.Reliably(holder.GetLatestStep, $"holder of s{p.Stage}'s latest step");
                Assert.True(held >= last - 1, $"round {round}: the holder of s{p.Stage} holds step {held}, the job is past step {last}"); // the newest step's snapshot may be in flight
                Assert.NotEqual(p.SiloName, fixture.HostOf(holder));
            }
        }

        var end = await SnapshotRedundancyCluster.Reliably(job.Cancel, "the job to cancel");
        // The job's recorded history (kept on the primary), not the live stream, which may drop what a killed silo's queue held.
        var recoveries = (await SnapshotRedundancyCluster.Recorded(fixture, spec.JobId, ClusterEventKind.JobRecovering))
            .Concat(await SnapshotRedundancyCluster.Recorded(fixture, spec.JobId, ClusterEventKind.JobRestored)).ToArray();
        string story = $"kills: {string.Join(", ", kills)}; recoveries: {string.Join(" | ", recoveries.Select(e => $"{e.Kind} step {e.Step} lost {e.StepsLost}: {e.Message}"))}";
        output.WriteLine(story);
        Assert.True(recoveries.Length == 0, $"losing a holder-only silo made the job recover. {story}");
        var losses = await SnapshotRedundancyCluster.Reliably(job.GetLossHistory, "the loss history");
        Assert.Equal(TinyJob.ReferenceLosses(spec, losses.Count).Select(BitConverter.DoubleToInt64Bits), losses.Select(BitConverter.DoubleToInt64Bits));
        Assert.True(end.State is JobState.Cancelled or JobState.Running or JobState.Checkpointing, $"job is {end.State}: {end.Error}");
    }
}
