using Cluster.Grains.Checkpoints;
using Cluster.Grains.Interfaces.Jobs;
using Microsoft.Extensions.Logging;
using Orleans.Storage;

namespace Cluster.Grains.Jobs;

/// <summary>
/// The one writer of a job's persisted state. Invariants it owns:
/// <list type="bullet">
/// <item>At most one <c>WriteStateAsync</c> is in flight per activation: every save goes through <see cref="Drain"/>,
/// and at most one drain runs at a time.</item>
/// <item>Every <see cref="Request"/> is covered by a write that started after it (versions <c>_requested</c> ≥
/// <c>_written</c>); <see cref="Flush"/> returns once the state as of its call is durable.</item>
/// <item>Writes are fenced by (epoch, owner): every activation has an identity of its own (<see cref="ActivationId"/>)
/// and takes a new epoch only through <see cref="ClaimEpoch"/>, which records it as the epoch's owner. A write that lost
/// an ETag race, or whose outcome was unknown (a timeout after the server applied it, which leaves a stale ETag), is
/// reconciled by re-reading: stored state of a newer epoch, of the same epoch claimed by another activation (two that
/// took the same epoch at once: the first durable claim wins), or of a job another activation finished, fences this
/// activation off (<see cref="JobFencedException"/>); otherwise this activation's state is written over it with the
/// fresh ETag. Fenced is final: once fenced (by a write or by <see cref="StillOwns"/>), no write is issued again.</item>
/// <item>A failed write never reaches the job's loop: it is retried with capped exponential back-off and jitter on the
/// injected <see cref="TimeProvider"/>; <see cref="Problem"/> says why it is late.</item>
/// <item>What is written per step is O(1) in the step count: the loss history is sealed into
/// <see cref="LossChunk"/> records of <see cref="LossChunkSize"/> losses, each written (before the state that counts
/// it) once; the state carries only the tail.</item>
/// <item>Loss-chunk writes are fenced like state writes: a chunk carries the (epoch, owner) that wrote it, is written
/// only once this activation's claim of its epoch is durable, only over a chunk of an older claim or its own, and
/// conditionally on the ETag it read — so a stale activation never overwrites the live one's chunk.</item>
/// <item>Every write is under a claim of its activation: a job's first write (its submission) claims the epoch it read —
/// 0 for a job not stored yet, past the tombstone for a deleted one — so of two activations that submit the same id at
/// once (a split directory) the first durable one owns the job and the other is fenced, instead of writing its spec over
/// the first's; every later epoch is claimed by <see cref="ClaimEpoch"/>.</item>
/// <item>A deleted job stays deleted: <see cref="ClearAsync"/> replaces the state with a tombstone
/// (<see cref="JobGrainState.Deleted"/>) of an epoch past every claim the job had, before it removes the loss chunks. Any
/// activation that read the job before is fenced by it; one that reads the tombstone starts an empty job past it, so a
/// job submitted again under the same id claims epochs newer than any chunk a stale activation could still write.</item>
/// </list>
/// State is written through <see cref="IGrainStorage"/> directly (not <c>IPersistentState</c>) so that a re-read for
/// reconciliation never replaces the object the job is mutating.
/// </summary>
internal sealed partial class JobStateWriter(IGrainStorage storage, GrainId grainId, TimeProvider time, JobCoordinatorOptions options, ILogger logger)
{
    /// <summary>The state name: the same as the former <c>[PersistentState("job")]</c>, so stored jobs keep loading.</summary>
    public const string StateName = "job";

    private readonly GrainState<JobGrainState> _grainState = new(new JobGrainState());
    private Task _inFlight = Task.CompletedTask;
    private long _requested;
    private long _written;
    private readonly LossHistory _losses = new();
    private int _durableChunks; // chunk records written that match _losses
    private (long Epoch, string? Owner) _durableClaim; // the (epoch, owner) of the state last read or written durably
    private long _lossGeneration; // bumped when losses are truncated: a seal in flight must not count its chunk

    /// <summary>This activation's identity (random, made at activation): the owner of the epochs it claims.</summary>
    public string ActivationId { get; } = Guid.NewGuid().ToString("N");

    /// <summary>The live state, mutated by the job; written as it is when a write starts.</summary>
    public JobGrainState State => _grainState.State ??= new JobGrainState();

    /// <summary>Why the latest write failed (one line), or null once a write succeeds.</summary>
    public string? Problem { get; private set; }

    /// <summary>Set once the stored state turned out to belong to a newer activation: this one must stop.</summary>
    public JobFencedException? Fenced { get; private set; }

    /// <summary>The newest committed checkpoint step recorded in durably written state (0: none).</summary>
    public long DurableCheckpointStep { get; private set; }

    /// <summary>Loss of every completed step, in order (the whole history, in memory).</summary>
    public IReadOnlyList<double> Losses => _losses;

    public void AddLoss(double loss) => _losses.Add(loss);

    /// <summary>
    /// Takes the next epoch for this activation (a new placement): the state's epoch goes up by one and names this
    /// activation as its owner. The claim fences other activations once it is durable (flush it before acting on it).
    /// </summary>
    public long ClaimEpoch()
    {
        State.Epoch++;
        State.Owner = ActivationId;
        return State.Epoch;
    }

    /// <summary>Drops losses after <paramref name="count"/> steps (a restore to an earlier step).</summary>
    public void TruncateLosses(int count)
    {
        if (count >= _losses.Count) return;
        _losses.Truncate(count);
        _durableChunks = Math.Min(_durableChunks, count / LossChunkSize);
        _lossGeneration++;
    }

    /// <summary>Replaces the loss history (from a checkpoint's manifest).</summary>
    public void ReplaceLosses(IEnumerable<double> losses)
    {
        TruncateLosses(0);
        _losses.AddRange(losses);
    }

    /// <summary>True while changes wait to be written.</summary>
    public bool Behind => _written < _requested;

    public async Task ReadAsync()
    {
        await storage.ReadStateAsync(StateName, grainId, _grainState);
        _grainState.State ??= new JobGrainState();
        var read = _grainState.State;
        if (read.Deleted)
            _grainState.State = PastTombstone(read);
        else if (!_grainState.RecordExists)
            State.Owner = ActivationId; // a job not stored yet: its first write (the submission) claims epoch 0 for this activation
        DurableCheckpointStep = State.LastCheckpointStep ?? 0;
        _losses.Clear();
        _losses.AddRange(State.LossHistory); // a state saved before losses moved to chunks
        for (int i = 0; i < State.LossChunks; i++)
        {
            var chunk = new GrainState<LossChunk>(new LossChunk());
            await storage.ReadStateAsync(LossChunkStateName, ChunkId(i), chunk);
            if (!chunk.RecordExists || chunk.State?.Losses.Count != LossChunkSize)
                throw new InvalidDataException($"Job {grainId.Key}: loss chunk {i} of {State.LossChunks} is missing or incomplete in its grain storage; the job's loss history cannot be read.");
            _losses.AddRange(chunk.State.Losses);
        }
        _losses.AddRange(State.LossTail);
        _durableChunks = State.LossChunks;
        _durableClaim = (read.Epoch, read.Owner);
    }

    /// <summary>
    /// Whether this activation still owns the job, asked before it says anything others act on (events): re-reads the
    /// stored state (bounded by <paramref name="timeout"/>); a newer stored epoch fences this activation. When storage
    /// cannot answer, the activation owns the job as far as it knows (events go on during an outage).
    /// </summary>
    public async Task<bool> StillOwns(TimeSpan timeout)
    {
        if (Fenced is not null) return false;
        try
        {
            var stored = new GrainState<JobGrainState>(new JobGrainState());
            await storage.ReadStateAsync(StateName, grainId, stored).WaitAsync(timeout, time);
            if (stored.State is { } theirs && Supersedes(theirs) && Fenced is null)
            {
                Fenced = FencedBy(theirs);
                LogFenced(logger, grainId.Key.ToString()!, Fenced.Message);
            }
        }
        catch (Exception e)
        {
            LogOwnershipUnknown(logger, e, grainId.Key.ToString()!);
        }
        return Fenced is null;
    }

    /// <summary>Asks for the current state to be written; returns at once (a per-step save never holds training up).</summary>
    public void Request()
    {
        _requested++;
        if (_inFlight.IsCompleted && Fenced is null) _inFlight = Drain();
    }

    /// <summary>Writes the current state and waits until it is durable (retrying through outages); throws only when fenced.</summary>
    public async Task Flush()
    {
        long target = ++_requested;
        while (_written < target)
        {
            if (Fenced is not null) throw Fenced;
            if (_inFlight.IsCompleted) _inFlight = Drain();
            await _inFlight;
        }
        if (Fenced is not null) throw Fenced;
    }

    private async Task Drain()
    {
        int failures = 0;
        while (_written < _requested && Fenced is null)
        {
            long version = _requested;
            long? checkpoint = State.LastCheckpointStep;
            var claim = (State.Epoch, State.Owner);
            State.UpdatedAt = time.GetUtcNow();
            try
            {
                await WriteOnce();
                _written = Math.Max(_written, version);
                _durableClaim = claim;
                DurableCheckpointStep = checkpoint ?? 0;
                if (Problem is not null) LogWriteRecovered(logger, grainId.Key.ToString()!, failures);
                Problem = null;
                failures = 0;
            }
            catch (JobFencedException e)
            {
                if (Fenced is not null) break; // fenced meanwhile (StillOwns): already said
                Fenced = e;
                LogFenced(logger, grainId.Key.ToString()!, e.Message);
            }
            catch (Exception e)
            {
                failures++;
                Problem = $"job state cannot be saved: {ShortError.Of(e)}";
                LogWriteFailed(logger, e, grainId.Key.ToString()!, failures);
                await Task.Delay(Backoff.Delay(failures, options.StorageRetryDelay, options.StorageRetryMaxDelay), time);
            }
        }
    }

    private async Task WriteOnce()
    {
        await SealLossChunks();
        try
        {
            ThrowIfFenced();
            await storage.WriteStateAsync(StateName, grainId, _grainState);
        }
        catch (Exception e) when (e is InconsistentStateException || e.InnerException is InconsistentStateException)
        {
            await Reconcile();
            ThrowIfFenced();
            await storage.WriteStateAsync(StateName, grainId, _grainState);
        }
    }

    /// <summary>
    /// Fenced is final: a write in flight when <see cref="StillOwns"/> learnt this activation is stale issues nothing more
    /// (each storage call is a point where the other activation may have moved on).
    /// </summary>
    private void ThrowIfFenced()
    {
        if (Fenced is { } fenced) throw fenced;
    }

    /// <summary>
    /// Deletes the job: writes its tombstone over the stored state (conditionally on the ETag read here, with an epoch
    /// past every claim), then removes the loss chunks, and starts this writer over with an empty job past the tombstone.
    /// The tombstone is the delete's commit point: a reader sees the job or its tombstone, never a state that counts
    /// chunks already gone. A chunk that cannot be removed is left (logged): no state counts it, and the epochs of a job
    /// submitted again under this id are newer, so it is written over. Throws when fenced: a newer activation owns the job.
    /// </summary>
    public async Task ClearAsync()
    {
        await _inFlight;
        if (Fenced is not null) throw Fenced;
        var stored = new GrainState<JobGrainState>(new JobGrainState());
        await storage.ReadStateAsync(StateName, grainId, stored);
        if (stored.State is { } theirs && ClaimedByOther(theirs.Epoch, theirs.Owner))
            throw Fenced = FencedBy(theirs);
        int chunks = Math.Max(Math.Max(State.LossChunks, stored.State?.LossChunks ?? 0), _losses.Count / LossChunkSize);
        var dead = new JobGrainState
        {
            Deleted = true,
            Epoch = Math.Max(State.Epoch, stored.State?.Epoch ?? 0) + 1,
            Owner = ActivationId,
            UpdatedAt = time.GetUtcNow(),
        };
        var tombstone = new GrainState<JobGrainState>(dead) { ETag = stored.ETag, RecordExists = stored.RecordExists };
        await storage.WriteStateAsync(StateName, grainId, tombstone); // conditional on the ETag read above
        for (int i = 0; i < chunks; i++)
        {
            var chunk = new GrainState<LossChunk>(new LossChunk());
            try
            {
                await storage.ReadStateAsync(LossChunkStateName, ChunkId(i), chunk);
                if (chunk.RecordExists) await storage.ClearStateAsync(LossChunkStateName, ChunkId(i), chunk);
            }
            catch (Exception e)
            {
                LogChunkLeft(logger, e, grainId.Key.ToString()!, i);
            }
        }
        _grainState.State = PastTombstone(dead);
        (_grainState.ETag, _grainState.RecordExists) = (tombstone.ETag, true);
        _losses.Clear();
        _durableChunks = 0;
        _lossGeneration++;
        (_requested, _written) = (0, 0);
        _durableClaim = (dead.Epoch, dead.Owner);
        DurableCheckpointStep = 0;
    }

    /// <summary>The stored state, read again; throws <see cref="JobFencedException"/> when this activation must not write over it (<see cref="Supersedes"/>).</summary>
    private async Task<GrainState<JobGrainState>> ReadStoredUnlessSuperseded()
    {
        var stored = new GrainState<JobGrainState>(new JobGrainState());
        await storage.ReadStateAsync(StateName, grainId, stored);
        if (stored.State is { } theirs && Supersedes(theirs))
            throw FencedBy(theirs);
        return stored;
    }

    /// <summary>The empty job an activation holds after a delete: an epoch past the tombstone's, claimed by itself.</summary>
    private JobGrainState PastTombstone(JobGrainState tombstone) => new() { Epoch = tombstone.Epoch + 1, Owner = ActivationId };

    /// <summary>
    /// Stored state this activation must not write over: a newer epoch's, or a finished job's while this activation's
    /// is not finished (a stale activation that finished the job first; the job must not be revived).
    /// </summary>
    private bool Supersedes(JobGrainState theirs) => ClaimedByOther(theirs.Epoch, theirs.Owner) || (theirs.State.IsTerminal() && !State.State.IsTerminal());

    /// <summary>
    /// A claim (epoch, owner) found in storage that is not this activation's to write over: a newer epoch, or this
    /// epoch claimed by another activation. A claim without an owner (written before owners existed) is told apart
    /// by its epoch alone.
    /// </summary>
    private bool ClaimedByOther(long epoch, string? owner) =>
        epoch > State.Epoch || (epoch == State.Epoch && owner is not null && owner != State.Owner);

    private JobFencedException FencedBy(long epoch, string? owner) =>
        new(grainId.Key.ToString()!, State.Epoch, epoch, sameEpoch: epoch == State.Epoch && owner is not null && owner != State.Owner);

    private JobFencedException FencedBy(JobGrainState theirs) =>
        theirs.Deleted ? new(grainId.Key.ToString()!, State.Epoch, theirs.Epoch, deleted: true) : FencedBy(theirs.Epoch, theirs.Owner);

    /// <summary>Re-reads the stored state: fenced when it belongs to a newer epoch, else takes its ETag to write over it.</summary>
    private async Task Reconcile()
    {
        var stored = await ReadStoredUnlessSuperseded();
        LogReconciled(logger, grainId.Key.ToString()!, stored.State?.Epoch ?? 0, stored.State?.CompletedSteps ?? 0);
        _grainState.ETag = stored.ETag;
        _grainState.RecordExists = stored.RecordExists;
    }
}
