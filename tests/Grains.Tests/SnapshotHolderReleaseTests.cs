using System.Diagnostics;
using Cluster.Grains.Checkpoints;
using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Stages;

namespace Cluster.Grains.Tests;

/// <summary>
/// The holder's half of "a release is final" (<see cref="CheckpointShardGrain"/>): a copy of the released epoch that
/// reaches a holder after the job released it — from a stage whose release stopped waiting for its send, or failed —
/// is refused, not held until idle collection; and a transfer starts no further call once its epoch is left, so at
/// most one call per stage can be that late. A copy later than the released holder's linger reaches a new activation,
/// which asks the job before it holds anything.
/// </summary>
public sealed class SnapshotHolderReleaseTests(SnapshotHolderReleaseTests.Fixture fixture) : IClassFixture<SnapshotHolderReleaseTests.Fixture>
{
    /// <summary>One silo (two nodes) whose job grains can be made not to answer <see cref="ITrainingJobGrain.GetStatus"/>.</summary>
    public sealed class Fixture() : ClusterFixture(1)
    {
        public UnansweredJobStatus JobStatus { get; } = new();

        protected override ISiloBuilder ConfigureSilo(ISiloBuilder silo) => silo.AddIncomingGrainCallFilter(JobStatus);
    }

    internal static IReadOnlyList<UnitImage> Units(byte seed) => [new UnitImage(0, "embed", [seed, 2, 3])];

    [Fact]
    public async Task A_copy_that_reaches_a_released_holder_late_is_refused_and_a_newer_epoch_is_served()
    {
        var holder = fixture.Client.GetGrain<ICheckpointShardGrain>(SnapshotHolders.Key("released-late-" + Guid.NewGuid().ToString("N")[..8], 0, 0));
        await holder.Accept(2, 5, 0, Units(5), durable: false);
        await holder.Release(2);

        // Calls sent before the release, arriving after it: the next step's copy and a chunk of it.
        var late = await Assert.ThrowsAsync<SnapshotHolderReleasedException>(() => holder.Accept(2, 6, 0, Units(6), durable: false));
        Assert.Contains("released", late.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<SnapshotHolderReleasedException>(() => holder.AcceptChunk(2, 6, new UnitImageChunk(0, 1, [9])));
        await Assert.ThrowsAsync<StaleEpochException>(() => holder.Accept(1, 4, 0, Units(4), durable: false));
        var held = await holder.GetSnapshotRecords();
        Assert.True(held.Length == 0, $"the released holder holds steps {string.Join(", ", held.Select(r => r.Step))}");

        // An operator's restore of the ended job runs a newer epoch: its copies are held as usual.
        await holder.Accept(3, 5, 0, Units(7), durable: false);
        long[] steps = await holder.GetSnapshotSteps();
        Assert.Equal(new long[] { 5 }, steps);
        Assert.Equal(7, (await holder.GetSnapshot(5))![0].Image[0]);
    }

    [Fact]
    public async Task A_released_holder_goes_away_once_any_late_call_has_expired()
    {
        var holder = fixture.Client.GetGrain<ICheckpointShardGrain>(SnapshotHolders.Key("released-gone-" + Guid.NewGuid().ToString("N")[..8], 0, 0));
        await holder.Accept(1, 3, 0, Units(3), durable: false);
        await holder.Release(1);
        var management = fixture.Client.GetGrain<IManagementGrain>(0);
        Assert.NotNull(await management.GetActivationAddress(holder)); // stays to refuse late copies
        // The silo's response timeout (30 s by default) and a margin, then it deactivates; asked without activating it.
        await Eventually.True(async () => await management.GetActivationAddress(holder) is null, TimeSpan.FromSeconds(120),
            "the released holder to deactivate after its linger");
    }

    [Fact]
    public async Task A_copy_later_than_the_linger_reaches_a_new_activation_which_asks_its_job_and_refuses_it()
    {
        // A job runs to its end and releases its holders. A copy later than any linger (a holder silo frozen past the
        // response timeout, a sender with a longer one) finds no activation: here, a holder of the job that none holds.
        var spec = TinyJob.Spec("released-ended-" + Guid.NewGuid().ToString("N")[..8], stages: 1, steps: 3, checkpointInterval: 0);
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        await job.Submit(spec);
        var done = await JobRuns.Finished(job);
        Assert.True(done.State == JobState.Completed, $"job ended {done.State}: {done.Error}");

        var holder = fixture.Client.GetGrain<ICheckpointShardGrain>(SnapshotHolders.Key(spec.JobId, 0, 1));
        var late = await Assert.ThrowsAsync<SnapshotHolderReleasedException>(() => holder.Accept(done.Epoch, 3, 0, Units(3), durable: false));
        Assert.Contains($"epoch {done.Epoch}", late.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<SnapshotHolderReleasedException>(() => holder.AcceptChunk(done.Epoch, 3, new UnitImageChunk(0, 1, [9])));
        Assert.Empty(await holder.GetSnapshotRecords());

        // An operator's restore of the ended job runs a newer epoch: its copies are held as usual.
        await holder.Accept(done.Epoch + 1, 3, 0, Units(4), durable: false);
        Assert.Equal(new long[] { 3 }, await holder.GetSnapshotSteps());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_new_holder_whose_job_cannot_answer_holds_the_copy_anyway(bool hangs)
    {
        // The check against late copies must never cost a snapshot: a job grain that hangs (its silo frozen) or cannot
        // be reached makes the new holder wait at most its limit (10 s), and then hold the copy as it did before the check.
        string jobId = (hangs ? "status-hangs-" : "status-fails-") + Guid.NewGuid().ToString("N")[..8];
        if (hangs) fixture.JobStatus.Hang(jobId);
        else fixture.JobStatus.Fail(jobId);
        var holder = fixture.Client.GetGrain<ICheckpointShardGrain>(SnapshotHolders.Key(jobId, 0, 1));

        var asked = Stopwatch.StartNew();
        try
        {
            await holder.Accept(2, 5, 0, Units(5), durable: false);
        }
        finally
        {
            asked.Stop();
            fixture.JobStatus.Release(jobId);
        }
        Assert.Equal(new long[] { 5 }, await holder.GetSnapshotSteps());
        Assert.Equal(1, fixture.JobStatus.Calls(jobId));
        // Well inside the silo's response timeout (30 s), past which the question would have ended anyway: the limit did.
        if (hangs) Assert.True(asked.Elapsed < TimeSpan.FromSeconds(25), $"the hung job held the copy up for {asked.Elapsed.TotalSeconds:F1} s");

        // The activation holds a copy now: it is no longer new, so the next copy does not ask again.
        await holder.Accept(2, 6, 0, Units(6), durable: false);
        Assert.Equal(new long[] { 5, 6 }, await holder.GetSnapshotSteps());
        Assert.Equal(1, fixture.JobStatus.Calls(jobId));
    }

    [Fact]
    public async Task A_transfer_starts_no_further_call_once_its_epoch_is_left()
    {
        using var epoch = new CancellationTokenSource();
        var holder = new RecordingHolder(onChunk: epoch.Cancel);
        var units = new[] { new UnitImage(0, "embed", [1]) { MoreChunks = [[2], [3], [4]] } };
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            UnitImages.SendAsync(holder, new SnapshotRecord(5, 2, null), stage: 0, units, durable: false, epoch.Token));
        Assert.Equal(["AcceptChunk 1"], holder.Calls); // the call in flight when the stage left the epoch, and no other
    }

    /// <summary>A holder that records the transfer's calls; only those are implemented.</summary>
    private sealed class RecordingHolder(Action onChunk) : ICheckpointShardGrain
    {
        public List<string> Calls { get; } = [];

        public Task AcceptChunk(long epoch, long completedSteps, UnitImageChunk chunk)
        {
            Calls.Add($"AcceptChunk {chunk.Index}");
            onChunk();
            return Task.CompletedTask;
        }

        public Task Accept(long epoch, long completedSteps, int stage, IReadOnlyList<UnitImage> units, bool durable, double? stepLoss = null)
        {
            Calls.Add("Accept");
            return Task.CompletedTask;
        }

        public Task<long> GetLatestStep() => throw new NotSupportedException();
        public Task<long[]> GetSnapshotSteps() => throw new NotSupportedException();
        public Task<SnapshotRecord[]> GetSnapshotRecords() => throw new NotSupportedException();
        public Task<IReadOnlyList<UnitImage>?> GetSnapshot(long completedSteps) => throw new NotSupportedException();
        public Task<byte[]?> GetSnapshotChunk(long completedSteps, int unitIndex, int index) => throw new NotSupportedException();
        public Task<IReadOnlyList<ShardRecord>> WaitDurable(long epoch, long completedSteps) => throw new NotSupportedException();
        public Task Release(long epoch) => throw new NotSupportedException();
        public Task<long[]?> MakeRoom(long epoch, string stageSilo) => throw new NotSupportedException();

        public Task<bool> LeaveShuttingDownSilo(string siloAddress) => throw new NotSupportedException();
    }
}
