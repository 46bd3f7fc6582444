using Cluster.Grains.Interfaces.Jobs;
using Orleans.TestingHost;

namespace Cluster.Grains.Tests;

/// <summary>A job whose coordinator alone runs on a silo a test stops gracefully, its stages on the other silos.</summary>
public static class LeavingCoordinator
{
    /// <summary>
    /// Submits a 2-stage job of 250 steps (enough that it still runs when Orleans deactivates its grain, late in the
    /// silo's stop, on a fast machine) with its coordinator on a silo the test can stop, and waits past step 4.
    /// </summary>
    public static async Task<(JobSpec Spec, ITrainingJobGrain Job, InProcessSiloHandle Leaving, JobStatus Before)> Running(
        CoordinatorStopClusterFixture fixture, string jobId)
    {
        var cluster = fixture.Cluster;
        while (cluster.Silos.Count < 4) await cluster.StartAdditionalSiloAsync(); // an earlier case stopped one
        var spec = TinyJob.Spec(jobId, stages: 2, steps: 250, checkpointInterval: 25);
        await JobHistory.KeepOnPrimary(fixture, spec.JobId); // the history outlives the coordinator's silo
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        var leaving = await fixture.MoveToALosableSilo(job);
        // Only the coordinator lives on the silo that leaves: a stage there would have to move first, which the silos of
        // this in-memory cluster (no DrainOnShutdown) do not do — the job would recover for the stage, not the coordinator.
        await SnapshotRedundancyCluster.OpenOnly(fixture, [.. cluster.Silos.Where(s => s.Name != leaving.Name).Select(s => s.Name)]);
        await job.Submit(spec);
        var before = await Eventually.Value(job.GetStatus, s => s.CompletedSteps >= 4 || JobRuns.IsFinished(s), TimeSpan.FromMinutes(2), "the job to pass step 4");
        Assert.True(before.State is JobState.Running or JobState.Checkpointing, $"job is {before.State}: {before.Error}");
        Assert.Equal(leaving.Name, fixture.HostOf(job));
        return (spec, job, leaving, before);
    }
}
