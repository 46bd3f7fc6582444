using System.Text;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Jobs;
using CsCheck;
using Microsoft.Extensions.Time.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Storage;

namespace Cluster.Grains.Tests;

/// <summary>
/// Issue 12's promise about the job coordinator's state, tried over random interleavings: up to four activations of one
/// job (false death declarations, frozen silos that thaw) over one grain storage, each claiming epochs (the same one at
/// once, too), restoring (truncating its losses), adding losses and saving them in the background, flushing, asking
/// whether it still owns the job, and deleting it — while a <see cref="ScheduledGrainStorage"/> lets each storage call
/// land in a random order, some writes applied but answered with a timeout, some refused, and time passes for the
/// retries. Interleaving is at the granularity of single storage calls (not whole operations): any pending call of any
/// activation may land next, and between landings any activation may act (the job grain is reentrant).
/// <para>
/// How activations act is how the job grain uses its writer: an activation reads first (activation); one that found no
/// job (or a deleted one) may submit it — its first write, before any claim, which claims the epoch it read (two may
/// submit at once: a split directory); otherwise it writes only once it has claimed an epoch
/// (<see cref="JobStateWriter.ClaimEpoch"/>, at each placement, flushed before it trains or places again), stops once fenced, never places (claims) or trains a
/// finished job, deletes only a job it finished itself (once that flush returned) — while other activations, stale
/// ones included, go on acting and their calls are in flight; an activation made after the delete reads the tombstone
/// and runs the job again under the same id — truncates its losses only right
/// after a claim (a restore), sets its completed steps to its loss count, and deletes the job only when nothing else of its
/// own is in flight (a job is deleted once finished and its loop done).
/// </para>
/// Invariants, checked as each call lands and after every step:
/// <list type="number">
/// <item>One owner per epoch, never back: each state write that lands carries an (epoch, owner) with a newer epoch than
/// the stored one, or the same epoch and the same owner — across deletions too (a delete writes a tombstone past every
/// claim). So once a claim is durable, another activation's write of that epoch (or an older one) never lands, and a
/// deleted job is never written back by an activation that read it before. A finished job stays finished (not revived)
/// until it is deleted.</item>
/// <item>A deleted job is never written back: once its tombstone lands, no state write of an activation that read the job
/// before lands (one that reads the tombstone may run the job again under the same id).</item>
/// <item>A state write that lands carries its own activation's identity as the owner (no one writes under another's claim).</item>
/// <item>Fenced is final: no write or clear that an activation issues after it learnt it is fenced ever lands.</item>
/// <item>Chunks are fenced like state: a loss chunk lands only with its writer's own claim, only once that claim has been
/// durable in the state, and only over a chunk of an older epoch or of the same claim.</item>
/// <item>The stored history is readable and one owner's: every chunk the stored state counts exists, is complete, is of
/// the state's claim or an older one, and holds exactly the losses the state's writer last wrote or read at that index
/// (no other activation overwrote or deleted a chunk the owner counts) — also while the job is being deleted: the
/// tombstone lands before any chunk goes. (An activation whose read of the state and chunks straddles a delete fails
/// its read; it reads again.)</item>
/// <item>A flush that returns has a state write of its activation, issued after it was called, landed; a flush throws
/// only <see cref="JobFencedException"/>.</item>
/// </list>
/// </summary>
public sealed class JobStateWriterProperties : IDisposable
{
    private static readonly GrainId Job = GrainId.Create("trainingjob", "prop");
    private static readonly TimeSpan RetryMaxDelay = new JobCoordinatorOptions().StorageRetryMaxDelay;

    private readonly JobStateWriters _writers = new();

    public void Dispose() => _writers.Dispose();

    [Fact]
    public void No_interleaving_of_activations_breaks_the_claim_fencing_or_the_stored_history() =>
        Gen.Select(Gen.Int[0, 99], Gen.Int[0, 1023], Gen.Int[0, 1023]).Array[1, 160]
            .Sample(steps => new Run(_writers, steps).Execute(), iter: 800, threads: 1);

    private sealed class Activation(int index)
    {
        public int Index { get; } = index;
        public JobStateWriter Writer { get; set; } = null!;
        public Task? Awaited { get; set; }
        public string? AwaitedKind { get; set; }
        public long AwaitedSince { get; set; }
        public bool Active { get; set; }
        public bool Claimed { get; set; }
        public bool Dead { get; set; }
        public int NextLoss { get; set; }
        public Dictionary<int, double[]> ChunkView { get; } = [];
        public bool Idle => Active && !Dead && Awaited is null;
        /// <summary>Free to act in its own turn: read, alive, and not deleting (a job is deleted once its loop is done).</summary>
        public bool Acting => Active && !Dead && AwaitedKind != "clear" && !Writer.State.State.IsTerminal() && Writer.Fenced is null;
        /// <summary>Its latest claim is durable (its placement's flush returned): it trains.</summary>
        public bool Placed { get; set; }
        /// <summary>Its read overlapped another activation's delete of the job.</summary>
        public bool ReadDuringDelete { get; set; }
        /// <summary>Its flush of the finished job returned: its loop is done, it may delete the job.</summary>
        public bool Finished { get; set; }
        /// <summary>Its read found no job stored, or a deleted one: it may submit the job (its first write, before any claim).</summary>
        public bool Fresh { get; set; }
        /// <summary>Its submission's flush returned.</summary>
        public bool Submitted { get; set; }
        /// <summary>When its first read of the job's state landed (a count of landings), or 0.</summary>
        public long ReadLanded { get; set; }
    }

    private sealed record Issue(bool Fenced, long Sequence);

    private sealed class Run
    {
        private readonly (int Kind, int A, int B)[] _steps;
        private readonly InMemoryGrainStorage _inner;
        private readonly ScheduledGrainStorage _storage;
        private readonly FakeTimeProvider _time = new();
        private readonly QueuedSynchronizationContext _context = new();
        private readonly List<Activation> _activations = [];
        private readonly StringBuilder _trace = new();
        private readonly HashSet<(int Activation, long Epoch, string Owner)> _durableClaims = [];
        private readonly Dictionary<GrainId, (long Epoch, string? Owner)> _chunkClaims = [];
        private readonly Dictionary<int, long> _lastLandedStateWrite = [];
        private (long Epoch, string Owner)? _stored;
        private bool _storedTerminal;
        private bool _storedDeleted;
        private long _issued;
        private long _landings;
        private long _tombstoneLanded;

        public Run(JobStateWriters writers, (int, int, int)[] steps)
        {
            _steps = steps;
            _inner = writers.NewStorage();
            _storage = new ScheduledGrainStorage(_inner, writers.NewSerializer());
            _storage.Issued = call => call.Note = new Issue(_activations[call.Caller].Writer?.Fenced is not null, ++_issued);
            _storage.Landed = Landed;
        }

        public void Execute()
        {
            var previous = SynchronizationContext.Current;
            SynchronizationContext.SetSynchronizationContext(_context);
            try
            {
                Activate();
                foreach (var step in _steps)
                {
                    Act(step);
                    Settle();
                }
                // Let everything in flight finish: calls land in order, retries get their time.
                for (int round = 0; round < 400 && (_storage.Pending.Count > 0 || _activations.Any(a => a.Awaited is not null)); round++)
                {
                    if (_storage.Pending.Count > 0) Land(0, ScheduledGrainStorage.Fault.None);
                    else _time.Advance(RetryMaxDelay + TimeSpan.FromSeconds(1));
                    Settle();
                }
            }
            catch (Exception e) when (e is not PropertyBroken)
            {
                throw new PropertyBroken($"{e.GetType().Name}: {e.Message}", _trace, e);
            }
            finally
            {
                SynchronizationContext.SetSynchronizationContext(previous);
            }
        }

        private void Act((int Kind, int A, int B) step)
        {
            var (kind, a, b) = step;
            var live = _activations.Where(x => !x.Dead).ToList();
            var who = live.Count > 0 ? live[a % live.Count] : null;
            switch (kind)
            {
                case < 40 when _storage.Pending.Count > 0:
                    Land(b % _storage.Pending.Count, ScheduledGrainStorage.Fault.None);
                    break;
                case < 46 when _storage.Pending.Count > 0:
                    Land(b % _storage.Pending.Count, b % 2 == 0 ? ScheduledGrainStorage.Fault.AppliedButTimedOut : ScheduledGrainStorage.Fault.Refused);
                    break;
                case < 50:
                    _trace.AppendLine("time passes");
                    _time.Advance(RetryMaxDelay + TimeSpan.FromSeconds(1));
                    break;
                case < 55 when _activations.Count < 4:
                    Activate();
                    break;
                case < 58 when who is { Idle: true, Acting: true, Fresh: true, Submitted: false, Claimed: false }:
                    // A submission: the first write of a job this activation found not stored (or deleted), before any claim.
                    who.Writer.State.State = JobState.Pending;
                    Await(who, "submit", () => who.Writer.Flush());
                    break;
                case < 62 when who is { Idle: true, Acting: true }:
                {
                    // A placement: claim the next epoch and wait until the claim is durable (BeginPlacement), restoring
                    // to an earlier step on the way.
                    long epoch = who.Writer.ClaimEpoch();
                    who.Claimed = true;
                    if (b % 3 == 0) who.Writer.TruncateLosses(b % (who.Writer.Losses.Count + 1));
                    who.Writer.State.CompletedSteps = who.Writer.Losses.Count;
                    _trace.AppendLine($"a{who.Index} claims epoch {epoch}, {who.Writer.Losses.Count} losses");
                    Await(who, "claim", () => who.Writer.Flush());
                    break;
                }
                case < 78 when who is { Acting: true, Placed: true }:
                {
                    int count = 1 + (b % 140);
                    for (int i = 0; i < count; i++) who.Writer.AddLoss(who.Index * 1_000_000 + who.NextLoss++);
                    who.Writer.State.CompletedSteps = who.Writer.Losses.Count;
                    who.Writer.Request();
                    _trace.AppendLine($"a{who.Index} adds {count} losses (now {who.Writer.Losses.Count}) and requests a save");
                    break;
                }
                case < 86 when who is { Idle: true, Placed: true }:
                    Await(who, "flush", () => who.Writer.Flush());
                    break;
                case < 93 when who is { Idle: true }:
                    Await(who, "still-owns", () => who.Writer.StillOwns(TimeSpan.FromMinutes(10)));
                    break;
                case < 94 when who is { Idle: true, Placed: true, Acting: true }:
                    who.Writer.State.State = JobState.Completed;
                    Await(who, "finish", () => who.Writer.Flush());
                    break;
                case < 96 when who is { Idle: true, Finished: true }:
                    Await(who, "clear", () => who.Writer.ClearAsync());
                    break;
                case >= 96:
                    _trace.AppendLine($"all {_storage.Pending.Count} pending calls land in order");
                    while (_storage.Pending.Count > 0)
                    {
                        Land(0, ScheduledGrainStorage.Fault.None);
                        Settle();
                    }
                    break;
            }
        }

        private void Activate()
        {
            var activation = new Activation(_activations.Count);
            _activations.Add(activation);
            activation.Writer = new JobStateWriter(_storage.For(activation.Index), Job, _time, new JobCoordinatorOptions(), NullLogger.Instance);
            Await(activation, "read", () => activation.Writer.ReadAsync());
        }

        private void Await(Activation who, string kind, Func<Task> start)
        {
            _trace.AppendLine($"a{who.Index} {kind} starts");
            long since = _issued; // calls the operation issues are numbered after this
            (who.Awaited, who.AwaitedKind, who.AwaitedSince) = (start(), kind, since);
            if (kind == "read") who.ReadDuringDelete = _activations.Any(x => x.AwaitedKind == "clear");
            if (kind == "clear")
                foreach (var reader in _activations.Where(x => x.AwaitedKind == "read")) reader.ReadDuringDelete = true;
        }

        private void Land(int index, ScheduledGrainStorage.Fault fault)
        {
            var call = _storage.Pending[index];
            _trace.AppendLine($"lands: a{call.Caller} {call.Kind} {call.StateName}{(call.StateName == "losses" ? " " + call.Grain.Key : "")} {Describe(call.Written)}{(fault == ScheduledGrainStorage.Fault.None ? "" : " (" + fault + ")")}");
            _storage.Complete(index, fault);
        }

        private static string Describe(object? written) => written switch
        {
            JobGrainState s => $"[epoch {s.Epoch} owner {s.Owner?[..4]} steps {s.CompletedSteps} chunks {s.LossChunks}]",
            LossChunk c => $"[epoch {c.Epoch} owner {c.Owner?[..4]}]",
            _ => "",
        };

        /// <summary>Runs the continuations the last step released, then checks what finished and the stored history.</summary>
        private void Settle()
        {
            _context.Pump();
            foreach (var who in _activations.Where(x => x.Awaited is { IsCompleted: true }))
            {
                var task = who.Awaited!;
                string kind = who.AwaitedKind!;
                (who.Awaited, who.AwaitedKind) = (null, null);
                var error = task.Exception?.InnerException;
                _trace.AppendLine($"a{who.Index} {kind} ends{(error is null ? "" : ": " + error.GetType().Name)}{(task is Task<bool> b && error is null ? " " + b.Result : "")}");
                switch (kind)
                {
                    case "read":
                        if (error is not null && !who.ReadDuringDelete)
                            throw new PropertyBroken($"a{who.Index} cannot read the stored job: {error.Message}", _trace, error);
                        if (error is not null)
                        {
                            who.Dead = true; // read while the job was being deleted: the delete is not atomic (see the report)
                            break;
                        }
                        who.Active = true;
                        for (int i = 0; i < who.Writer.State.LossChunks; i++)
                            who.ChunkView[i] = [.. who.Writer.Losses.Skip(i * JobStateWriter.LossChunkSize).Take(JobStateWriter.LossChunkSize)];
                        break;
                    case "flush" or "finish" or "claim" or "submit":
                        if (kind == "finish" && error is null) who.Finished = true;
                        if (kind == "submit") (who.Submitted, who.Dead) = (error is null, error is not null); // a fenced submission deactivates
                        if (kind == "claim") who.Placed = error is null;
                        if (error is not null && error is not JobFencedException)
                            throw new PropertyBroken($"a{who.Index}'s flush threw {error.GetType().Name}, not a fence", _trace, error);
                        if (error is null && _lastLandedStateWrite.GetValueOrDefault(who.Index) <= who.AwaitedSince)
                            throw new PropertyBroken($"a{who.Index}'s flush returned before a write issued after it landed", _trace);
                        break;
                    case "still-owns":
                        if (error is not null) throw new PropertyBroken($"a{who.Index}'s ownership check threw", _trace, error);
                        break;
                    case "clear":
                        who.Dead = true; // deleted (or its delete failed): the activation goes away either way
                        break;
                }
            }
            CheckStoredHistory();
        }

        private void Landed(ScheduledGrainStorage.Call call)
        {
            var who = _activations[call.Caller];
            var issue = (Issue)call.Note!;
            _landings++;
            if (call.Kind == ScheduledGrainStorage.CallKind.Read)
            {
                if (call.StateName == JobStateWriter.StateName && who.ReadLanded == 0)
                    (who.ReadLanded, who.Fresh) = (_landings, _stored is null || _storedDeleted); // it found no job, or a deleted one
                return;
            }
            if (issue.Fenced)
                Broken($"a{who.Index}'s {call.Kind} of {call.StateName}, issued after it was fenced, landed");
            if (call.StateName == JobStateWriter.StateName)
            {
                if (call.Kind == ScheduledGrainStorage.CallKind.Clear)
                    Broken($"a{who.Index} removed the job's state record: an activation that read the job before could write it back");
                var state = (JobGrainState)call.Written!;
                if (state.Owner != who.Writer.ActivationId)
                    Broken($"a{who.Index} wrote a state whose owner is {state.Owner}, not itself");
                if (_stored is { } stored && !(state.Epoch > stored.Epoch || (state.Epoch == stored.Epoch && state.Owner == stored.Owner)))
                    Broken($"a{who.Index}'s write of (epoch {state.Epoch}, {state.Owner?[..4]}) landed over durable (epoch {stored.Epoch}, {stored.Owner[..4]})");
                if (_storedTerminal && !state.State.IsTerminal() && !state.Deleted)
                    Broken($"a{who.Index}'s write of a {state.State} job landed over the finished one");
                if (state.Deleted) _tombstoneLanded = _landings;
                else if (who.ReadLanded < _tombstoneLanded)
                    Broken($"a{who.Index}, which read the job before it was deleted, wrote it back");
                _stored = (state.Epoch, state.Owner!);
                _storedTerminal = state.State.IsTerminal();
                _storedDeleted = state.Deleted;
                _durableClaims.Add((who.Index, state.Epoch, state.Owner!));
                _lastLandedStateWrite[who.Index] = issue.Sequence;
                return;
            }
            if (call.Kind == ScheduledGrainStorage.CallKind.Clear)
            {
                _chunkClaims.Remove(call.Grain);
                return;
            }
            var chunk = (LossChunk)call.Written!;
            if (chunk.Owner != who.Writer.ActivationId || !_durableClaims.Contains((who.Index, chunk.Epoch, chunk.Owner)))
                Broken($"a{who.Index} wrote chunk {call.Grain.Key} under (epoch {chunk.Epoch}, {chunk.Owner?[..4]}), not a durable claim of its own");
            if (_chunkClaims.TryGetValue(call.Grain, out var before) && !(before.Epoch < chunk.Epoch || (before.Epoch == chunk.Epoch && (before.Owner is null || before.Owner == chunk.Owner))))
                Broken($"a{who.Index}'s chunk {call.Grain.Key} of epoch {chunk.Epoch} landed over one of (epoch {before.Epoch}, {before.Owner?[..4]})");
            _chunkClaims[call.Grain] = (chunk.Epoch, chunk.Owner);
            int index = int.Parse(call.Grain.Key.ToString()!.Split('/')[^1], System.Globalization.CultureInfo.InvariantCulture);
            who.ChunkView[index] = [.. chunk.Losses];
        }

        private void CheckStoredHistory()
        {
            var state = new GrainState<JobGrainState>();
            _inner.ReadStateAsync(JobStateWriter.StateName, Job, state).GetAwaiter().GetResult();
            if (!state.RecordExists || state.State is not { } stored) return;
            var writer = _activations.Single(a => a.Writer.ActivationId == stored.Owner);
            if (stored.Deleted && stored.LossChunks != 0)
                Broken($"a{writer.Index}'s tombstone counts {stored.LossChunks} chunks");
            for (int i = 0; i < stored.LossChunks; i++)
            {
                var chunk = new GrainState<LossChunk>();
                _inner.ReadStateAsync("losses", GrainId.Create("jobloss", $"{Job.Key}/{i}"), chunk).GetAwaiter().GetResult();
                if (!chunk.RecordExists || chunk.State is not { } held || held.Losses.Count != JobStateWriter.LossChunkSize)
                {
                    Broken($"the stored state (epoch {stored.Epoch}, a{writer.Index}) counts {stored.LossChunks} chunks but chunk {i} is missing or incomplete");
                    return;
                }
                if (held.Epoch > stored.Epoch || (held.Epoch == stored.Epoch && held.Owner is not null && held.Owner != stored.Owner))
                    Broken($"chunk {i} of (epoch {held.Epoch}, {held.Owner?[..4]}) is counted by the older state (epoch {stored.Epoch}, a{writer.Index})");
                if (!writer.ChunkView.TryGetValue(i, out var expected) || !expected.SequenceEqual(held.Losses))
                    Broken($"chunk {i} no longer holds what a{writer.Index}, whose state counts it, wrote or read there");
            }
        }

        private void Broken(string what) => throw new PropertyBroken(what, _trace);
    }

    private sealed class PropertyBroken(string what, StringBuilder trace, Exception? inner = null)
        : Exception($"{what}\nsteps:\n{trace}", inner);
}
