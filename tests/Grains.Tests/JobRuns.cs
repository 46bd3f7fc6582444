using Cluster.Grains.Checkpoints;
using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Jobs;

namespace Cluster.Grains.Tests;

/// <summary>Waiting for a job to end and checking its losses against the reference trainer (and its released holders), for cluster tests.</summary>
internal static class JobRuns
{
    public static readonly TimeSpan Deadline = TimeSpan.FromMinutes(3);

    public static bool IsFinished(JobStatus s) => s.State is JobState.Completed or JobState.Failed or JobState.Cancelled;

    /// <summary>
    /// Submits <paramref name="spec"/> (a job of many steps a test acts on while it trains), runs <paramref name="body"/>
    /// on it and cancels it whatever happens.
    /// </summary>
    public static async Task WhileRunning(IGrainFactory grains, JobSpec spec, Func<ITrainingJobGrain, Task> body)
    {
        var job = grains.GetGrain<ITrainingJobGrain>(spec.JobId);
        await job.Submit(spec);
        try
        {
            await body(job);
        }
        finally
        {
            await job.Cancel();
        }
    }

    /// <summary>
    /// Submits <paramref name="spec"/> with its coordinator on a silo the test can lose (<see cref="ClusterFixture.MoveToALosableSilo"/>)
    /// and waits until it passed step <paramref name="step"/> (or ended); returns the job, that silo and the status seen.
    /// </summary>
    public static async Task<(ITrainingJobGrain Job, Orleans.TestingHost.InProcessSiloHandle Coordinator, JobStatus Status)> SubmittedOnALosableSilo(
        ClusterFixture fixture, JobSpec spec, long step)
    {
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        var silo = await fixture.MoveToALosableSilo(job);
        await job.Submit(spec);
        var status = await Eventually.Value(job.GetStatus, s => s.CompletedSteps >= step || IsFinished(s), TimeSpan.FromMinutes(2), $"the job to pass step {step}");
        return (job, silo, status);
    }

    /// <summary>Waits until the job has committed its checkpoint at <paramref name="step"/> or later, and asserts it still trains.</summary>
    public static async Task<JobStatus> CommittedWhileTraining(ITrainingJobGrain job, long step, TimeSpan timeout)
    {
        var status = await Eventually.Value(job.GetStatus, s => s.LastCheckpointStep >= step || s.State is JobState.Completed or JobState.Failed,
            timeout, $"the checkpoint at step {step} to be committed");
        Assert.True(status.State is JobState.Running or JobState.Checkpointing, $"job is {status.State}: {status.Error}");
        return status;
    }

    /// <summary>Waits until the job ends; a timeout says where the job was.</summary>
    public static async Task<JobStatus> Finished(ITrainingJobGrain job)
    {
        try
        {
            return await Eventually.Value(job.GetStatus, IsFinished, Deadline, "the job to finish");
        }
        catch (Xunit.Sdk.FailException e)
        {
            var s = await job.GetStatus();
            throw new InvalidOperationException($"{e.Message} Last status: {s.State} step {s.CompletedSteps}/{s.TotalSteps} epoch {s.Epoch} error '{s.Error}' " +
                $"placement {string.Join(", ", s.Placement.Select(p => p.NodeId))}", e);
        }
    }

    /// <summary>Every step's loss equals the reference trainer's, to the bit.</summary>
    public static async Task AssertReferenceTrajectory(ITrainingJobGrain job, JobSpec spec)
    {
        var losses = await job.GetLossHistory();
        AssertReferenceTrajectory(losses, TinyJob.ReferenceLosses(spec));
    }

    /// <summary>Every step the job completed (a cancelled job's too) has the reference trainer's loss, to the bit.</summary>
    public static async Task AssertReferencePrefix(ITrainingJobGrain job, JobSpec spec)
    {
        var losses = await job.GetLossHistory();
        Assert.NotEmpty(losses);
        AssertReferenceTrajectory(losses, TinyJob.ReferenceLosses(spec, losses.Count));
    }

    private static void AssertReferenceTrajectory(IReadOnlyList<double> losses, double[] expected) =>
        AssertBitIdentical(expected, losses, "reference", "cluster");

    /// <summary>The same losses, step for step, to the bit; a difference names the step and both values by <paramref name="expectedName"/> and <paramref name="actualName"/>.</summary>
    public static void AssertBitIdentical(IReadOnlyList<double> expected, IReadOnlyList<double> actual, string expectedName, string actualName)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
            Assert.True(BitConverter.DoubleToInt64Bits(expected[i]) == BitConverter.DoubleToInt64Bits(actual[i]),
                $"step {i}: {expectedName} {expected[i]:R}, {actualName} {actual[i]:R}");
    }

    /// <summary>Every snapshot holder of every stage of an ended job holds no copy any more; <paramref name="ended"/> says how it ended, for the message.</summary>
    public static async Task AssertHoldersReleased(IGrainFactory grains, JobSpec spec, string ended)
    {
        for (int stage = 0; stage < spec.Stages; stage++)
            foreach (string key in SnapshotHolders.Keys(spec.JobId, stage, spec.SnapshotReplicas))
            {
                var held = await grains.GetGrain<ICheckpointShardGrain>(key).GetSnapshotRecords();
                Assert.True(held.Length == 0, $"the holder {key} of s{stage} still holds steps {string.Join(", ", held.Select(r => r.Step))} of the {ended} job");
            }
    }
}
