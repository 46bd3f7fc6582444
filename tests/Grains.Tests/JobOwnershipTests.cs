using Cluster.Grains.Jobs;
using Orleans.Storage;

namespace Cluster.Grains.Tests;

/// <summary>
/// Two activations of one job against one grain storage (a false death declaration): the one whose epoch is older
/// learns it no longer owns the job before it says anything, and writes nothing over the newer one.
/// </summary>
public sealed class JobOwnershipTests : IDisposable
{
    private readonly JobStateWriters _writers = new();

    public void Dispose() => _writers.Dispose();

    [Fact]
    public async Task A_stale_activation_learns_it_lost_the_job_before_it_narrates_and_cannot_write_over_the_new_one()
    {
        var storage = _writers.NewStorage();
        var (grain, stale) = await JobStateWriters.Submitted(storage, "split-brain", steps: 20);
        stale.State.Epoch = 1;
        stale.State.CompletedSteps = 7;
        await stale.Flush();
        Assert.True(await stale.StillOwns(TimeSpan.FromSeconds(5)));

        // The new activation reads what the old one saved and places the job in a new epoch.
        var live = JobStateWriters.Writer(storage, grain);
        await live.ReadAsync();
        live.State.Epoch++;
        await live.Flush();

        // The frozen one thaws and is about to publish "JobRecovering … epoch 1": it learns first that it is stale.
        Assert.False(await stale.StillOwns(TimeSpan.FromSeconds(5)));
        Assert.NotNull(stale.Fenced);
        Assert.Equal(2, stale.Fenced!.StoredEpoch);
        stale.State.CompletedSteps = 8;
        await Assert.ThrowsAsync<JobFencedException>(stale.Flush);
        Assert.True(await live.StillOwns(TimeSpan.FromSeconds(5)));

        var stored = JobStateWriters.Writer(storage, grain);
        await stored.ReadAsync();
        Assert.Equal(2, stored.State.Epoch);
        Assert.Equal(7, stored.State.CompletedSteps);
    }

    [Fact]
    public async Task Of_two_activations_that_submit_a_new_job_at_once_the_first_durable_one_owns_it_and_the_other_is_fenced()
    {
        // A split directory: two activations of a job id not stored yet both read "no job" and take different specs.
        var storage = _writers.NewStorage();
        var (grain, first) = await JobStateWriters.Submitted(storage, "double-submit", steps: 20);
        var second = JobStateWriters.Writer(storage, grain);
        await second.ReadAsync();
        second.State.Spec = TinyJob.Spec("double-submit", steps: 30);

        await first.Flush();
        // The second submission must not write its spec over the first one's: the first owns epoch 0 of the job now.
        var fenced = await Assert.ThrowsAsync<JobFencedException>(second.Flush);
        Assert.Contains("claimed epoch 0 first", fenced.Message, StringComparison.Ordinal);
        Assert.True(await first.StillOwns(TimeSpan.FromSeconds(5)));

        var stored = JobStateWriters.Writer(storage, grain);
        await stored.ReadAsync();
        Assert.Equal(20, stored.State.Spec!.Steps);
        Assert.Equal(first.ActivationId, stored.State.Owner);
    }

    [Fact]
    public async Task An_activation_that_read_a_running_job_cannot_revive_it_once_another_activation_finished_it()
    {
        var storage = _writers.NewStorage();
        var (grain, first) = await JobStateWriters.Submitted(storage, "finished-first", steps: 20);
        first.State.Epoch = 1;
        first.State.State = Interfaces.Jobs.JobState.Running;
        first.State.CompletedSteps = 19;
        await first.Flush();

        // A second activation reads the running job; meanwhile the first one (alive after all) finishes it.
        var second = JobStateWriters.Writer(storage, grain);
        await second.ReadAsync();
        var third = JobStateWriters.Writer(storage, grain);
        await third.ReadAsync();
        first.State.CompletedSteps = 20;
        first.State.State = Interfaces.Jobs.JobState.Completed;
        await first.Flush();

        // The second takes a new epoch to recover the job: its write must learn the job is done, not restart it; the
        // third, about to narrate its recovery, learns it first.
        second.State.Epoch++;
        await Assert.ThrowsAsync<JobFencedException>(second.Flush);
        Assert.False(await third.StillOwns(TimeSpan.FromSeconds(5)));

        var stored = JobStateWriters.Writer(storage, grain);
        await stored.ReadAsync();
        Assert.Equal(Interfaces.Jobs.JobState.Completed, stored.State.State);
        Assert.Equal(1, stored.State.Epoch);
        Assert.Equal(20, stored.State.CompletedSteps);
    }

    [Fact]
    public async Task Two_activations_that_claim_the_same_epoch_at_once_end_with_one_owner()
    {
        var storage = _writers.NewStorage();
        var (grain, previous) = await JobStateWriters.Submitted(storage, "same-epoch", steps: 20);
        previous.ClaimEpoch();
        previous.State.CompletedSteps = 7;
        await previous.Flush();

        // The job's silo was declared dead: two activations read its state (epoch 1) and each places it in epoch 2.
        var first = JobStateWriters.Writer(storage, grain);
        var second = JobStateWriters.Writer(storage, grain);
        await first.ReadAsync();
        await second.ReadAsync();
        Assert.NotEqual(first.ActivationId, second.ActivationId);
        Assert.Equal(2, first.ClaimEpoch());
        Assert.Equal(2, second.ClaimEpoch());

        // The first durable claim of epoch 2 wins; the other learns at its write that the epoch is taken, not its own.
        await first.Flush();
        var lost = await Assert.ThrowsAsync<JobFencedException>(second.Flush);
        Assert.Contains("claimed epoch 2 first", lost.Message, StringComparison.Ordinal);
        Assert.False(await second.StillOwns(TimeSpan.FromSeconds(5)));
        Assert.True(await first.StillOwns(TimeSpan.FromSeconds(5)));

        // The winner goes on writing; the loser writes nothing more.
        first.State.CompletedSteps = 8;
        await first.Flush();
        second.State.CompletedSteps = 9;
        await Assert.ThrowsAsync<JobFencedException>(second.Flush);
        var stored = JobStateWriters.Writer(storage, grain);
        await stored.ReadAsync();
        Assert.Equal(2, stored.State.Epoch);
        Assert.Equal(first.ActivationId, stored.State.Owner);
        Assert.Equal(8, stored.State.CompletedSteps);
    }

    [Fact]
    public async Task A_claim_whose_write_outcome_was_unknown_is_recognised_as_its_own_when_reconciled()
    {
        var storage = new AppliedThenTimedOut(_writers.NewStorage());
        var (grain, writer) = await JobStateWriters.Submitted(storage, "own-claim", steps: 20);
        writer.ClaimEpoch();
        storage.FailNextWriteAfterApplying = true;
        await writer.Flush(); // applied, answered with a timeout (stale ETag), retried: the stored claim is its own
        Assert.False(storage.FailNextWriteAfterApplying);
        Assert.Null(writer.Fenced);
        Assert.True(await writer.StillOwns(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task A_stale_activation_cannot_overwrite_the_live_ones_loss_chunks()
    {
        var storage = _writers.NewStorage();
        var (grain, previous) = await JobStateWriters.Submitted(storage, "chunks", steps: 1000);
        previous.ClaimEpoch();
        for (int i = 0; i < 100; i++) previous.AddLoss(1.0);
        await previous.Flush();

        // A stale activation and the live one both read epoch 1's state; the live one claims epoch 2 and seals the first
        // chunk of losses in its own timeline.
        var stale = JobStateWriters.Writer(storage, grain);
        var live = JobStateWriters.Writer(storage, grain);
        await stale.ReadAsync();
        await live.ReadAsync();
        live.ClaimEpoch();
        await live.Flush();
        for (int i = 100; i < JobStateWriter.LossChunkSize + 10; i++) live.AddLoss(2.0);
        await live.Flush();

        // The stale one's next save would seal the same chunk with its own losses: refused, and the chunk is the live one's.
        for (int i = 100; i < JobStateWriter.LossChunkSize + 20; i++) stale.AddLoss(3.0);
        await Assert.ThrowsAsync<JobFencedException>(stale.Flush);
        var stored = JobStateWriters.Writer(storage, grain);
        await stored.ReadAsync();
        Assert.Equal(1, stored.State.LossChunks);
        Assert.Equal(live.Losses.Select(BitConverter.DoubleToInt64Bits), stored.Losses.Select(BitConverter.DoubleToInt64Bits));
    }

    [Fact]
    public async Task When_storage_cannot_answer_the_activation_owns_the_job_as_far_as_it_knows()
    {
        var storage = _writers.NewStorage();
        var grain = GrainId.Create("trainingjob", "outage");
        var writer = JobStateWriters.Writer(new UnreadableStorage(storage), grain);
        writer.State.Epoch = 1;
        Assert.True(await writer.StillOwns(TimeSpan.FromSeconds(5)));
        Assert.Null(writer.Fenced);
    }

    /// <summary>Grain storage whose next write, once asked, is applied but answered with a timeout (the caller keeps its old ETag).</summary>
    private sealed class AppliedThenTimedOut(IGrainStorage inner) : IGrainStorage
    {
        public bool FailNextWriteAfterApplying { get; set; }

        public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.ReadStateAsync(stateName, grainId, grainState);

        public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            string? before = grainState.ETag;
            await inner.WriteStateAsync(stateName, grainId, grainState);
            if (!FailNextWriteAfterApplying || stateName != JobStateWriter.StateName) return;
            FailNextWriteAfterApplying = false;
            grainState.ETag = before;
            throw new TimeoutException("the answer to the write was lost");
        }

        public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.ClearStateAsync(stateName, grainId, grainState);
    }

    /// <summary>Grain storage whose reads fail, as during an outage.</summary>
    private sealed class UnreadableStorage(IGrainStorage inner) : IGrainStorage
    {
        public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
            Task.FromException(new IOException("connection refused"));

        public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.WriteStateAsync(stateName, grainId, grainState);

        public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.ClearStateAsync(stateName, grainId, grainState);
    }

    [Fact]
    public async Task A_deleted_job_is_never_written_back_by_an_activation_that_read_it_before_and_runs_again_past_its_tombstone()
    {
        var storage = _writers.NewStorage();
        var (grain, owner) = await JobStateWriters.Submitted(storage, "deleted", steps: 300);
        owner.ClaimEpoch();
        for (int i = 0; i < 2 * JobStateWriter.LossChunkSize + 5; i++) owner.AddLoss(i);
        owner.State.CompletedSteps = owner.Losses.Count;
        await owner.Flush();

        // A stale activation (its silo falsely declared dead, then thawed) read the job; the owner finishes and deletes it.
        var stale = JobStateWriters.Writer(storage, grain);
        await stale.ReadAsync();
        Assert.Equal(owner.Losses.Count, stale.Losses.Count);
        owner.State.State = Interfaces.Jobs.JobState.Completed;
        await owner.Flush();
        await owner.ClearAsync();
        Assert.All(new[] { 0, 1 }, i => Assert.Equal(-1, storage.SizeOf("losses", GrainId.Create("jobloss", $"deleted/{i}"))));

        // The stale one saves its progress: the tombstone fences it, it writes nothing back.
        stale.AddLoss(999);
        stale.State.CompletedSteps = stale.Losses.Count;
        var fenced = await Assert.ThrowsAsync<JobFencedException>(stale.Flush);
        Assert.Contains("deleted", fenced.Message, StringComparison.Ordinal);
        Assert.False(await stale.StillOwns(TimeSpan.FromSeconds(5)));

        // What storage holds is no job, no losses: the chunks went after the tombstone, and the stale one wrote none back.
        var reader = JobStateWriters.Writer(storage, grain);
        await reader.ReadAsync();
        Assert.Null(reader.State.Spec);
        Assert.Empty(reader.Losses);
        Assert.All(new[] { 0, 1 }, i => Assert.Equal(-1, storage.SizeOf("losses", GrainId.Create("jobloss", $"deleted/{i}"))));

        // The same id submitted again runs in epochs past the deleted job's (so no chunk a stale activation might still
        // write can fence it), and the stale activation stays fenced.
        reader.State.Spec = TinyJob.Spec("deleted", steps: 20);
        long epoch = reader.ClaimEpoch();
        Assert.True(epoch > 2, $"the new job claimed epoch {epoch}, not past the tombstone's");
        for (int i = 0; i < JobStateWriter.LossChunkSize + 1; i++) reader.AddLoss(-i);
        reader.State.CompletedSteps = reader.Losses.Count;
        await reader.Flush();
        await reader.Flush(); // the chunk is sealed once the claim is durable
        Assert.True(await reader.StillOwns(TimeSpan.FromSeconds(5)));
        var again = JobStateWriters.Writer(storage, grain);
        await again.ReadAsync();
        Assert.Equal(epoch, again.State.Epoch);
        Assert.Equal(reader.Losses, again.Losses);
        await Assert.ThrowsAsync<JobFencedException>(stale.Flush);
    }
}
