using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Scheduling;

namespace Cluster.Grains.Tests;

public sealed class JobPersistenceTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private async Task<(ITrainingJobGrain Job, JobStatus Status)> RunToCompletion(JobSpec spec)
    {
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        await job.Submit(spec);
        var status = await Eventually.Value(job.GetStatus, s => s.State is JobState.Completed or JobState.Failed or JobState.Cancelled,
            TimeSpan.FromMinutes(3), $"job {spec.JobId} to finish");
        Assert.True(status.State == JobState.Completed, $"job ended {status.State}: {status.Error}");
        // Completion is saved before the job lets go of its nodes; wait for that too, so nothing is still in flight.
        var scheduler = fixture.Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);
        await Eventually.True(async () => (await scheduler.GetPlacement(spec.JobId)).Count == 0, TimeSpan.FromSeconds(60),
            $"job {spec.JobId} to release its nodes");
        return (job, status);
    }

    [Fact]
    public async Task A_completed_job_reads_back_the_same_state_after_its_grain_is_deactivated()
    {
        var spec = TinyJob.Spec("persist-after-deactivation", stages: 2, steps: 4, checkpointInterval: 0);
        var (job, before) = await RunToCompletion(spec);
        var lossesBefore = await job.GetLossHistory();
        Assert.Equal(4, lossesBefore.Count);

        // The job's state lives in the file-system grain storage "jobs" under the data root.
        string stateRoot = Path.Combine(fixture.DataRoot, "state", "jobs");
        Assert.True(Directory.Exists(stateRoot), $"no grain-state folder {stateRoot}");
        var stateFiles = Directory.EnumerateFiles(stateRoot, "*.state", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(f).Contains(spec.JobId, StringComparison.Ordinal))
            .ToArray();
        Assert.True(stateFiles.Length == 1, $"expected one state file of {spec.JobId} under {stateRoot}, found: {string.Join(", ", stateFiles)}");
        Assert.True(new FileInfo(stateFiles[0]).Length > 0, $"{stateFiles[0]} is empty");

        Assert.True(fixture.Cluster.TryGetGrainContext(job.GetGrainId(), out var first), "the job grain should be active");
        var firstActivation = first!.ActivationId;
        await fixture.Cluster.DeactivateAsync(job);
        Assert.False(fixture.Cluster.TryGetGrainContext(job.GetGrainId(), out _), "the job grain should be gone after deactivation");

        var after = await job.GetStatus();
        Assert.True(fixture.Cluster.TryGetGrainContext(job.GetGrainId(), out var second), "the job grain should be active again");
        Assert.NotEqual(firstActivation, second!.ActivationId);

        Assert.Equal(JobState.Completed, after.State);
        Assert.Equal(before.CompletedSteps, after.CompletedSteps);
        Assert.Equal(before.TotalSteps, after.TotalSteps);
        Assert.Equal(before.Epoch, after.Epoch);
        Assert.Equal(before.LastCheckpointStep, after.LastCheckpointStep);
        Assert.Equal(before.Placement, after.Placement);
        Assert.Null(after.Error);
        Assert.True(BitConverter.DoubleToInt64Bits(before.LastLoss!.Value) == BitConverter.DoubleToInt64Bits(after.LastLoss!.Value),
            $"last loss {after.LastLoss:R}, before deactivation {before.LastLoss:R}");

        JobRuns.AssertBitIdentical(lossesBefore, await job.GetLossHistory(), "before deactivation", "after deactivation");
        Assert.Equal(spec, await job.GetSpec());
    }

    [Fact]
    public async Task Submitting_a_completed_job_again_returns_its_status_and_a_different_spec_is_refused()
    {
        var spec = TinyJob.Spec("persist-resubmit", stages: 2, steps: 4, checkpointInterval: 0);
        var (job, before) = await RunToCompletion(spec);

        // The same spec again (a retried submission): its status, no restart — also from a fresh activation.
        var again = await job.Submit(spec);
        Assert.Equal(JobState.Completed, again.State);
        Assert.Equal(before.CompletedSteps, again.CompletedSteps);
        Assert.Equal(before.Epoch, again.Epoch);
        await fixture.Cluster.DeactivateAsync(job);
        var afterReactivation = await job.Submit(spec with { }); // an equal copy, not the same instance
        Assert.Equal(JobState.Completed, afterReactivation.State);
        Assert.Equal(before.CompletedSteps, afterReactivation.CompletedSteps);
        Assert.Equal(before.Epoch, afterReactivation.Epoch);
        Assert.Empty(await fixture.Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default).GetPlacement(spec.JobId));

        // A different spec under the same id is refused, and the job is untouched.
        var error = await Assert.ThrowsAsync<JobSpecInvalidException>(() => job.Submit(spec with { Steps = 8 }));
        Assert.Contains(error.Problems, p => p.StartsWith("jobId:", StringComparison.Ordinal) && p.Contains("already exists", StringComparison.Ordinal));
        Assert.Contains(spec.JobId, error.Message, StringComparison.Ordinal);
        var status = await job.GetStatus();
        Assert.Equal(JobState.Completed, status.State);
        Assert.Equal(before.CompletedSteps, status.CompletedSteps);
        Assert.Equal(spec, await job.GetSpec());
    }

    /// <summary>
    /// A deletion asked twice at once (a retry after a time-out) deletes and announces once; the retry gets the
    /// outcome — or, should it arrive after the deletion finished (a slow machine), hears that the job is gone. Before,
    /// the overlapping retry deleted again and failed on the state's ETag.
    /// </summary>
    [Fact]
    public async Task Two_deletions_at_once_delete_once_and_both_callers_get_the_outcome()
    {
        var spec = TinyJob.Spec("persist-delete-twice", stages: 1, steps: 3, checkpointInterval: 0);
        var (job, _) = await RunToCompletion(spec);
        var first = job.Delete(purge: false, reason: "first");
        var retry = job.Delete(purge: false, reason: "retry");
        var outcome = await first;
        Assert.Equal(JobState.Completed, outcome.State);
        try
        {
            Assert.Equal(outcome, await retry);
        }
        catch (InvalidOperationException late) when (late.Message.Contains("does not exist", StringComparison.Ordinal))
        {
            // it arrived after the deletion had finished
        }

        var history = await fixture.Client.GetGrain<IJobEventLogGrain>(spec.JobId).GetPage(new JobEventQuery(1000));
        Assert.Single(history.Events, r => r.Event.Kind == ClusterEventKind.JobDeleted);
    }

    [Fact]
    public async Task A_deleted_job_submitted_again_under_its_id_runs_anew_past_the_deleted_ones_epochs_with_the_same_losses()
    {
        var spec = TinyJob.Spec("persist-delete-resubmit", stages: 2, steps: 4, checkpointInterval: 0);
        var (job, before) = await RunToCompletion(spec);
        var lossesBefore = await job.GetLossHistory();
        await job.Delete(purge: true, reason: "test");

        // Its state is a tombstone now: a fresh activation sees no job.
        await Eventually.True(() => Task.FromResult(!fixture.Cluster.TryGetGrainContext(job.GetGrainId(), out _)), TimeSpan.FromSeconds(30),
            "the deleted job's activation to go");
        var gone = await Assert.ThrowsAsync<InvalidOperationException>(() => job.Delete(purge: false, reason: "again"));
        Assert.Contains("does not exist", gone.Message, StringComparison.Ordinal);

        var (_, after) = await RunToCompletion(spec);
        Assert.True(after.Epoch > before.Epoch, $"the new job ran in epoch {after.Epoch}, not past the deleted one's {before.Epoch}");
        JobRuns.AssertBitIdentical(lossesBefore, await job.GetLossHistory(), "the deleted job", "the new job");
    }

    [Fact]
    public async Task A_finished_jobs_snapshot_holders_let_go_of_their_copies()
    {
        var spec = TinyJob.Spec("persist-holders-released", stages: 2, steps: 6, checkpointInterval: 0) with { SnapshotInterval = 1 };
        await RunToCompletion(spec);
        await JobRuns.AssertHoldersReleased(fixture.Client, spec, "finished");
    }
}
