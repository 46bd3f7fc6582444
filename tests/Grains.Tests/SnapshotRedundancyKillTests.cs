using Xunit.Abstractions;
using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;

namespace Cluster.Grains.Tests;

/// <summary>
/// Redundancy as an invariant: silos that host stages and silos that hold their snapshot copies are lost one at a
/// time, ten in a row, each replaced by a fresh silo; every recovery must come from memory and cost no completed step
/// (at most the step in flight, whose snapshot was not yet acknowledged).
/// </summary>
public sealed class SnapshotRedundancyKillTests(SnapshotRedundancyKillTests.Fixture fixture, ITestOutputHelper output) : IClassFixture<SnapshotRedundancyKillTests.Fixture>
{
    /// <summary>A cluster of its own: the test loses and replaces ten silos.</summary>
    public sealed class Fixture() : ClusterFixture(4);

    [Fact]
    public async Task Ten_single_failures_of_stage_hosts_and_snapshot_holders_in_a_row_each_cost_no_completed_step()
    {
        var spec = TinyJob.Spec("ten-kills", stages: 2, steps: 5000, checkpointInterval: 5000) with { SnapshotInterval = 1 };
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        await SnapshotRedundancyCluster.KeepCoordinatorsOnPrimary(fixture, job);
        // Stages stay off the primary (it keeps the membership, the job and the scheduler), so each stage host can be lost.
        await SnapshotRedundancyCluster.OpenOnly(fixture, [.. fixture.Cluster.Silos.Skip(1).Select(s => s.Name)]);
        await job.Submit(spec);
        var random = new Random(16);
        long last = 0;
        var kills = new List<string>();
        for (int round = 0; round < 10; round++)
        {
            var status = await SnapshotRedundancyCluster.StepsPast(job, last, 3, $"the job to run 3 steps past step {last} (round {round})");
            Assert.True(status.State is JobState.Running or JobState.Checkpointing, $"round {round}: job is {status.State}: {status.Error}");

            // The invariant, read from outside: no holder shares its stage's silo.
            var stageSilos = status.Placement.ToDictionary(p => p.Stage, p => p.SiloName);
            var holderSilos = stageSilos.Keys.ToDictionary(s => s, s => fixture.HostOf(SnapshotRedundancyCluster.Holder(fixture, spec.JobId, s)));
            foreach (var (stage, silo) in stageSilos)
                Assert.True(holderSilos[stage] != silo, $"round {round}: stage s{stage} and its snapshot holder are both on {silo}");

            // Even rounds lose a stage's host, odd rounds a holder's (one that hosts no stage when there is one).
            var primary = fixture.Cluster.Silos[0].Name;
            var stageHosts = stageSilos.Values.Where(s => s != primary).Distinct().ToArray();
            var holderHosts = holderSilos.Values.OfType<string>().Where(s => s != primary).Distinct().ToArray();
            var holderOnly = holderHosts.Except(stageHosts).ToArray();
            string[] pool = round % 2 == 0 ? stageHosts : holderOnly.Length > 0 ? holderOnly : holderHosts;
            if (pool.Length == 0) pool = [.. stageHosts.Concat(holderHosts).Distinct()];
            Assert.NotEmpty(pool);
            string victim = pool[random.Next(pool.Length)];
            kills.Add($"{victim} ({(stageHosts.Contains(victim) ? "stage" : "")}{(holderHosts.Contains(victim) ? " holder" : "")})");
            last = status.CompletedSteps;
            await fixture.Cluster.KillSiloAsync(SnapshotRedundancyCluster.Silo(fixture, victim));
            var fresh = await fixture.Cluster.StartAdditionalSiloAsync();
            await SnapshotRedundancyCluster.OpenOnly(fixture, [.. fixture.Cluster.Silos.Skip(1).Select(s => s.Name)]);
            last = Math.Max(last, (await SnapshotRedundancyCluster.StepsPast(job, last, 3, $"the job to recover from losing {victim} (round {round}, fresh silo {fresh.Name})")).CompletedSteps);
        }

        var end = await SnapshotRedundancyCluster.Reliably(job.Cancel, "the job to cancel");
        // The job's recorded history (kept on the primary), not the live stream, which may drop what a killed silo's queue held.
        var restored = await SnapshotRedundancyCluster.Recorded(fixture, spec.JobId, ClusterEventKind.JobRestored);
        string story = $"kills: {string.Join(", ", kills)}; restores: {string.Join(" | ", restored.Select(e => $"step {e.Step} lost {e.StepsLost}: {e.Message}"))}";
        output.WriteLine(story);
        Assert.NotEmpty(restored);
        RecoveryAssert.CostNoCompletedStep(restored, story);
        var losses = await SnapshotRedundancyCluster.Reliably(job.GetLossHistory, "the loss history");
        Assert.True(losses.Count >= 30, $"only {losses.Count} steps ran. {story}");
        Assert.Equal(TinyJob.ReferenceLosses(spec, losses.Count).Select(BitConverter.DoubleToInt64Bits), losses.Select(BitConverter.DoubleToInt64Bits));
        Assert.True(end.State is JobState.Cancelled or JobState.Running or JobState.Checkpointing, $"job is {end.State}: {end.Error}");
    }
}
