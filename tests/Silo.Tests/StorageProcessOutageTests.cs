using Azure.Storage.Blobs;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Tests;
using Xunit.Abstractions;

namespace Cluster.Silo.Tests;

/// <summary>
/// Issue #12's real-process check of "storage outages are not failures": two silo processes in fleet mode keep their
/// membership table, job state and checkpoints in one Azurite, and that Azurite process is stopped for 30 s in the
/// middle of a job and started again on the same data. The job must finish with the reference trajectory, never be
/// <see cref="JobState.Failed"/>, and never lose a committed checkpoint (the committed step it reports never goes back).
/// </summary>
public sealed class StorageProcessOutageTests(ITestOutputHelper output)
{
    private static readonly TimeSpan s_outage = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_job_outlives_its_storage_process_stopped_for_30_seconds_and_finishes_identical()
    {
        var azurite = AzuriteFixture.Private(output);
        await azurite.InitializeAsync();
        try
        {
            await RunThroughOutage(azurite);
        }
        finally
        {
            await azurite.DisposeAsync();
        }
    }

    private async Task RunThroughOutage(AzuriteFixture azurite)
    {
        await using var cluster = new ProcessCluster();
        var fleet = AzuriteFleet.For(cluster, "outage");
        var client = await fleet.StartTwoSilosAsync(cluster, azurite);

        var spec = TinyJob.Spec($"outage-{cluster.Suffix}", stages: 2, steps: 400, checkpointInterval: 5); // long enough that a slow first look still finds it running
        var job = client.GetGrain<ITrainingJobGrain>(spec.JobId);
        await job.Submit(spec);

        // Stop the store once a checkpoint has committed, so there is something the outage could lose.
        JobStatus status = await job.GetStatus();
        await cluster.WaitAsync(async () => (status = await job.GetStatus()).LastCheckpointStep >= 5 || IsTerminal(status.State),
            TimeSpan.FromMinutes(3), "the first committed checkpoint");
        Assert.False(IsTerminal(status.State), $"the job ended ({status.State}: {status.Error}) before the outage; make it longer\n{cluster.Outputs()}");
        long committedBefore = status.LastCheckpointStep ?? 0, stepAtStop = status.CompletedSteps;
        output.WriteLine($"stopping Azurite at step {status.CompletedSteps}, committed step {committedBefore}");

        await azurite.StopAsync(TimeSpan.FromSeconds(20));
        var watch = new CommittedStepWatch(committedBefore);
        var outageEnds = DateTime.UtcNow + s_outage;
        while (DateTime.UtcNow < outageEnds)
        {
            // The outage's length is the experiment, not a wait for a condition: sample the job while it lasts.
            cluster.AssertSilosRunning();
            status = await job.GetStatus();
            watch.Observe(status);
            Assert.NotEqual(JobState.Failed, status.State);
            await Task.Delay(TimeSpan.FromMilliseconds(500));
        }
        output.WriteLine($"restarting Azurite: job {status.State} at step {status.CompletedSteps}, committed {status.LastCheckpointStep}");
        Assert.True(status.CompletedSteps > stepAtStop, $"training should go on from memory while the store is down (step {stepAtStop} → {status.CompletedSteps})");
        await azurite.RestartAsync();

        await cluster.WaitAsync(async () =>
        {
            status = await job.GetStatus();
            watch.Observe(status);
            return IsTerminal(status.State);
        }, TimeSpan.FromMinutes(5), "the job to finish after the store came back");

        Assert.True(status.State == JobState.Completed, $"job ended {status.State}: {status.Error}\n{cluster.Outputs()}");
        Assert.Null(watch.WentBack);
        Assert.Equal(spec.Steps, status.LastCheckpointStep);
        var losses = await job.GetLossHistory();
        Assert.Equal(TinyJob.ReferenceLosses(spec).Select(BitConverter.DoubleToInt64Bits), losses.Select(BitConverter.DoubleToInt64Bits));

        var blobs = new BlobServiceClient(azurite.BlobConnectionString, new BlobClientOptions(BlobClientOptions.ServiceVersion.V2026_06_06));
        var names = new List<string>();
        await foreach (var blob in blobs.GetBlobContainerClient(fleet.CheckpointContainer).GetBlobsAsync()) names.Add(blob.Name);
        Assert.Contains(names, name => name.StartsWith($"{spec.JobId}/step-{spec.Steps:D8}/epoch-", StringComparison.Ordinal)
            && name.EndsWith("/manifest.json", StringComparison.Ordinal));
    }

    private static bool IsTerminal(JobState state) => state is JobState.Completed or JobState.Failed or JobState.Cancelled;

    /// <summary>Records the first time the job's committed step went below one it had reported.</summary>
    private sealed class CommittedStepWatch(long initial)
    {
        private long _highest = initial;

        public string? WentBack { get; private set; }

        public void Observe(JobStatus status)
        {
            long committed = status.LastCheckpointStep ?? 0;
            if (committed < _highest)
                WentBack ??= $"committed step went back from {_highest} to {committed} ({status.State}, epoch {status.Epoch})";
            _highest = Math.Max(_highest, committed);
        }
    }
}
