using Cluster.Grains.Interfaces.Jobs;

namespace Cluster.Grains.Tests;

/// <summary>
/// An operator lowers a job's replica maximum while the scheduler is placing it with the old one: the placement may
/// hand the job more replicas than it is now allowed, and the job gives the extra ones back at its next step boundary
/// (a shrink asked during the placement is not dropped with the old placement's requests).
/// </summary>
public sealed class ReplicaMaximumDuringPlacementTests(ReplicaMaximumDuringPlacementTests.Fixture fixture) : IClassFixture<ReplicaMaximumDuringPlacementTests.Fixture>
{
    /// <summary>A cluster of its own, whose silos hold back the scheduler's placement of a job the test names.</summary>
    public sealed class Fixture() : ClusterFixture(3)
    {
        public PlacementHold Hold { get; } = new();

        protected override ISiloBuilder ConfigureSilo(ISiloBuilder silo) => silo.AddIncomingGrainCallFilter(Hold);
    }

    [Fact]
    public async Task A_maximum_lowered_while_the_job_is_being_placed_is_kept_once_it_runs()
    {
        var spec = TinyJob.Spec("max-lowered-while-placing", stages: 1, steps: 400, checkpointInterval: 50) with { MinReplicas = 1, MaxReplicas = 2 };
        fixture.Hold.Arm(spec.JobId);
        await JobRuns.WhileRunning(fixture.Client, spec, async job =>
        {
            try
            {
                await fixture.Hold.Reached.WaitAsync(JobRuns.Deadline);
                var updated = await job.Update(new JobUpdate(Priority: null, MaxReplicas: 1, Reason: "test"));
                Assert.Equal(1, updated.MaxReplicas);
            }
            finally
            {
                fixture.Hold.Release();
            }
            // The held placement asked for up to 2 replicas; once the job runs, it keeps to the new maximum.
            var running = await Eventually.Value(job.GetStatus, s => s.CompletedSteps >= 3 || JobRuns.IsFinished(s), JobRuns.Deadline, "the job to run 3 steps");
            Assert.False(JobRuns.IsFinished(running), $"job is {running.State}: {running.Error}");
            var kept = await Eventually.Value(job.GetStatus, s => (s.Replicas == 1 && s.Placement.Count == 1) || JobRuns.IsFinished(s), JobRuns.Deadline,
                "the job to run 1 replica, its new maximum");
            Assert.False(JobRuns.IsFinished(kept), $"job is {kept.State}: {kept.Error}");
            var later = await Eventually.Value(job.GetStatus, s => s.CompletedSteps >= kept.CompletedSteps + 3 || JobRuns.IsFinished(s), JobRuns.Deadline, "3 more steps");
            Assert.Equal(1, later.Replicas);
        });
    }
}
