using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Stages;
using Orleans.Runtime.Messaging;

namespace Cluster.Grains.Tests;

/// <summary>
/// A stage's release is final (<c>PipelineStageGrain.SettleSendsAtRelease</c>): once it returns, no copy of the
/// stage's snapshots reaches a holder — not the one on its way at the release, not a retry of it. Else a cancelled or
/// failed job's holders, released after its stages, were re-created by a late copy and kept two copies of the stage's
/// state that nothing reads until idle collection.
/// </summary>
public sealed class SnapshotReleaseTests(SnapshotReleaseTests.Fixture fixture) : IClassFixture<SnapshotReleaseTests.Fixture>
{
    /// <summary>
    /// A cluster of its own whose holders hold back the copy the test arms and then fail it as undelivered — the kind
    /// of failure a stage retries — so a stage that kept retrying after its release would show.
    /// </summary>
    public sealed class Fixture() : ClusterFixture(3)
    {
        public SnapshotAcceptTrap Trap { get; } = new() { FailWith = message => new ConnectionFailedException(message) };

        protected override ISiloBuilder ConfigureSilo(ISiloBuilder silo) => silo.AddIncomingGrainCallFilter(Trap);
    }

    [Fact]
    public async Task A_released_stage_hands_no_copy_to_a_holder_after_its_release_and_a_cancelled_jobs_holders_end_empty()
    {
        var spec = TinyJob.Spec("snapshot-release", stages: 2, steps: 5000, checkpointInterval: 5000) with { SnapshotInterval = 1 };
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        await job.Submit(spec);
        var running = await SnapshotRedundancyCluster.StepsPast(job, 0, 3, "the job to run 3 steps");
        long trapped = running.CompletedSteps + 2;
        fixture.Trap.Arm(spec.JobId, stage: 1, step: trapped);
        await fixture.Trap.Reached.WaitAsync(TimeSpan.FromMinutes(2));
        long epoch = (await job.GetStatus()).Epoch;

        // Stage s1 is released while its copy of step `trapped` is held back at a holder. The release must wait for
        // it: given two seconds, one that does not returns meanwhile.
        var release = fixture.Client.GetGrain<IPipelineStageGrain>(StageKeys.Stage(spec.JobId, 0, 1)).Release(epoch);
        await Task.WhenAny(release, Task.Delay(TimeSpan.FromSeconds(2)));
        bool returnedWhileOnItsWay = release.IsCompleted;
        fixture.Trap.Release(); // the held-back copy fails as undelivered: a send that outlived its epoch would retry it
        await release.WaitAsync(TimeSpan.FromMinutes(1));
        fixture.Trap.Mark(1);
        Assert.False(returnedWhileOnItsWay, $"s1's release returned while its snapshot of step {trapped} was still on its way to a holder");

        // The job loses s1 under it, recovers in a new epoch and is cancelled; s1's late copies of the released epoch
        // would arrive meanwhile (a retry follows within a second).
        await SnapshotRedundancyCluster.StepsPast(job, trapped - 1, 2, "the job to recover from losing s1 and run on");
        var end = await SnapshotRedundancyCluster.Reliably(job.Cancel, "the job to cancel");
        Assert.Equal(JobState.Cancelled, end.State);
        var late = fixture.Trap.AcceptsOf(spec.JobId).Where(a => a.AfterMark == 1 && a.Stage == 1 && a.Epoch == epoch).ToArray();
        Assert.True(late.Length == 0, $"s1 handed {late.Length} copies of epoch {epoch} to holders after its release returned: " +
                                      string.Join(", ", late.Select(a => $"step {a.Step} to {a.Holder}")));

        // The cancelled job's holders let go of their copies, as a completed job's do.
        await JobRuns.AssertHoldersReleased(fixture.Client, spec, "cancelled");
    }
}
