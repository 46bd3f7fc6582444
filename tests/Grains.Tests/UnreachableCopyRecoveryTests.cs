using Xunit.Abstractions;
using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;

namespace Cluster.Grains.Tests;

/// <summary>
/// A recovery whose only surviving copy cannot be reached for a while — as a holder whose silo was just killed, which is
/// re-created only once membership declares that silo dead, and whose every call fails at once until then — asks it
/// again until it answers, instead of counting it lost after two quick tries and restoring the durable checkpoint
/// (<c>KillDuringLeaveProcessTests</c>, seed 215: "s0: none", 5 counted steps recomputed). Here the stage's silo is
/// killed and the holder's first answers are failed as unreachable ones.
/// </summary>
public sealed class UnreachableCopyRecoveryTests(FilteredClusterFixture<DroppedCalls> fixture, ITestOutputHelper output) : IClassFixture<FilteredClusterFixture<DroppedCalls>>
{
    /// <summary>More than the two tries of the recovery's quick round and the one of a patient round before the fix.</summary>
    private const int Unanswered = 4;

    [Fact]
    public Task A_copy_unreachable_for_a_while_is_asked_again_and_the_loss_costs_no_completed_step() =>
        LoseTheStageWhileTheHolderFails(fixture, output, "unreachable-copy", Unanswered, what => new SiloUnavailableException($"injected: {what}"));

    /// <summary>
    /// Submits a one-stage job with its stage on one silo and its holder on another, fails the holder's next
    /// <paramref name="unanswered"/> answers with <paramref name="fault"/>, kills the stage's silo, and asserts that the
    /// job restored from the holder's copy: no completed step recomputed, the reference trainer's losses to the bit.
    /// </summary>
    internal static async Task LoseTheStageWhileTheHolderFails(FilteredClusterFixture<DroppedCalls> fixture, ITestOutputHelper output,
        string jobId, int unanswered, Func<string, Exception> fault)
    {
        // Durable checkpoints only at the end: a restore from stored state would go back to the initial weights.
        var spec = TinyJob.Spec(jobId, stages: 1, steps: 30, checkpointInterval: 30) with { SnapshotInterval = 1 };
        string stageSilo = fixture.Cluster.Silos[1].Name, spare = fixture.Cluster.Silos[2].Name;
        var (job, running) = await SnapshotRedundancyCluster.SubmitOn(fixture, spec, [stageSilo], 5);
        Assert.Equal(stageSilo, Assert.Single(running.Placement).SiloName);

        await SnapshotRedundancyCluster.OpenOnly(fixture, [spare]);
        fixture.Filter.Arm<ICheckpointShardGrain>(nameof(ICheckpointShardGrain.GetSnapshotRecords), unanswered, fault);
        await fixture.Cluster.KillSiloAsync(SnapshotRedundancyCluster.Silo(fixture, stageSilo));

        var done = await Eventually.Value(job.GetStatus, s => s.State is JobState.Completed or JobState.Failed, TimeSpan.FromMinutes(4), "the job to recover and finish");
        Assert.True(done.State == JobState.Completed, $"job ended {done.State}: {done.Error}");
        var history = await JobHistory.When(fixture, spec.JobId, h => h.Any(e => e.Kind == ClusterEventKind.JobRestored), "the JobRestored event");
        string story = JobHistory.Told(history.Where(e => e.StepsLost > 0 || e.Kind is ClusterEventKind.JobRestored or ClusterEventKind.JobResumed));
        output.WriteLine(story);
        RecoveryAssert.CostNoCompletedStep(history, story);
        Assert.Equal(TinyJob.ReferenceLosses(spec).Select(BitConverter.DoubleToInt64Bits),
            (await SnapshotRedundancyCluster.Reliably(job.GetLossHistory, "the loss history")).Select(BitConverter.DoubleToInt64Bits));
        Assert.Equal(unanswered, fixture.Filter.Dropped); // the recovery asked the holder, and was not answered that many times
    }
}
