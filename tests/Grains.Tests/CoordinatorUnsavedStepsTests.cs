using Cluster.Grains.Compute;
using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Scheduling;
using Microsoft.Extensions.DependencyInjection;

namespace Cluster.Grains.Tests;

/// <summary>
/// The job saves its state in the background, never on a step's critical path, so when the job grain's own silo dies
/// its saved count may be behind the steps it had counted. Those steps are not lost: every counted step's state is held
/// by the stages' snapshot holders with its loss, and the next activation takes the count and the losses back from
/// them (<c>RecoveryPoint</c>) — a single failure, the coordinator's included, recomputes no counted step.
/// </summary>
public sealed class CoordinatorUnsavedStepsTests(CoordinatorLossClusterFixture fixture) : IClassFixture<CoordinatorLossClusterFixture>
{
    [Fact]
    public async Task Counted_steps_the_lost_coordinator_had_not_saved_are_taken_back_from_the_snapshot_holders()
    {
        var cluster = fixture.Cluster;
        var spec = TinyJob.Spec("coordinator-unsaved-steps", stages: 2, steps: 16, checkpointInterval: 0);
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        var scheduler = fixture.Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);
        var primary = cluster.Silos[0];
        var victim = cluster.Silos[1];
        var third = cluster.Silos[2];
        // The job grain alone on the silo that dies (no stage there); the scheduler and the job's recorded history on
        // the primary, which is never lost.
        await fixture.MoveGrainAsync(scheduler, primary, scheduler.GetNodes);
        await SnapshotRedundancyCluster.OpenOnly(fixture, [primary.Name, third.Name]);
        await JobHistory.KeepOnPrimary(fixture, spec.JobId);
        await fixture.MoveGrainAsync(job, victim, job.GetStatus);

        await job.Submit(spec);
        var started = await Eventually.Value(job.GetStatus, s => s.CompletedSteps >= 2 || JobRuns.IsFinished(s), JobRuns.Deadline, "the job to run 2 steps");
        Assert.False(JobRuns.IsFinished(started), $"the job ended before the test began: {started.State} {started.Error}");
        // Slow steps (about a second or more each), so the kill lands between two counts.
        var slowed = (await scheduler.GetNodes()).Select(n => n.Capabilities.NodeId).ToArray();
        foreach (var silo in new[] { primary, third })
            foreach (string node in slowed.Where(n => n.StartsWith(silo.Name + "/", StringComparison.Ordinal)))
                silo.ServiceProvider.GetRequiredService<ComputeSlowdown>().Set(node, TimeSpan.FromMilliseconds(150));
        try
        {
            var now = await job.GetStatus();
            var counted = await Eventually.Value(job.GetStatus, s => s.CompletedSteps > now.CompletedSteps + 1 || JobRuns.IsFinished(s), JobRuns.Deadline, "two more steps");
            // From the next one on, the coordinator's state saves hang: the saved count stays behind what it counts.
            StorageFaults.GrainState.Inject(spec.JobId, FaultyGrainStorage.Write, FaultMode.Hang, times: 1);
            var last = await Eventually.Value(job.GetStatus, s => s.CompletedSteps > counted.CompletedSteps || JobRuns.IsFinished(s), JobRuns.Deadline, "one more step");
            Assert.False(JobRuns.IsFinished(last), $"the job ended before the kill: {last.State} {last.Error}");
            await cluster.KillSiloAsync(victim);
            Assert.True(StorageFaults.GrainState.Hits(spec.JobId, FaultyGrainStorage.Write) >= 1, "no state save hung: the saved count did not fall behind");

            foreach (var silo in new[] { primary, third })
                foreach (string node in slowed) silo.ServiceProvider.GetRequiredService<ComputeSlowdown>().Clear(node);
            var done = await SnapshotRedundancyCluster.Reliably(() => Eventually.Value(job.GetStatus, JobRuns.IsFinished, JobRuns.Deadline, "the job to finish on another silo"), "the job");
            Assert.True(done.State == JobState.Completed, $"job ended {done.State}: {done.Error}");

            var history = await JobHistory.All(fixture, spec.JobId);
            string told = $"counted before the kill: {last.CompletedSteps}; history: {JobHistory.Told(history)}";
            // Two activations of the job grain may both wake after its silo died (the directory's entry went with it); the
            // fenced one stops after its restore. Every restore must hold the invariant.
            var restores = history.Where(e => e.Kind == ClusterEventKind.JobRestored).ToArray();
            Assert.True(restores.Length >= 1, $"no restore recorded; {told}");
            foreach (var restored in restores)
            {
                Assert.True(RestoredFrom.IsMemory(restored.Message), $"restored from storage, not memory: {restored.Message}; {told}");
                Assert.True(restored.Step >= last.CompletedSteps,
                    $"{last.CompletedSteps} steps had been counted when the coordinator's silo died, but the job resumed from step {restored.Step}; {told}");
            }
            await JobRuns.AssertReferenceTrajectory(job, spec);
        }
        finally
        {
            StorageFaults.GrainState.Heal(spec.JobId);
            foreach (var silo in cluster.Silos)
                foreach (string node in slowed) silo.ServiceProvider.GetRequiredService<ComputeSlowdown>().Clear(node);
        }
    }
}
