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
/// <item>A write that lost an ETag race, or whose outcome was unknown (a timeout after the server applied it, which
/// leaves a stale ETag), is reconciled by re-reading: stored state of a newer epoch fences this activation off
/// (<see cref="JobFencedException"/>); otherwise this activation's state is written over it with the fresh ETag.</item>
/// <item>A failed write never reaches the job's loop: it is retried with capped exponential back-off and jitter on the
/// injected <see cref="TimeProvider"/>; <see cref="Problem"/> says why it is late.</item>
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

    /// <summary>The live state, mutated by the job; written as it is when a write starts.</summary>
    public JobGrainState State => _grainState.State ??= new JobGrainState();

    /// <summary>Why the latest write failed (one line), or null once a write succeeds.</summary>
    public string? Problem { get; private set; }

    /// <summary>Set once the stored state turned out to belong to a newer activation: this one must stop.</summary>
    public JobFencedException? Fenced { get; private set; }

    /// <summary>The newest committed checkpoint step recorded in durably written state (0: none).</summary>
    public long DurableCheckpointStep { get; private set; }

    /// <summary>True while changes wait to be written.</summary>
    public bool Behind => _written < _requested;

    public async Task ReadAsync()
    {
        await storage.ReadStateAsync(StateName, grainId, _grainState);
        _grainState.State ??= new JobGrainState();
        DurableCheckpointStep = State.LastCheckpointStep ?? 0;
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
            State.UpdatedAt = time.GetUtcNow();
            try
            {
                await WriteOnce();
                _written = Math.Max(_written, version);
                DurableCheckpointStep = checkpoint ?? 0;
                if (Problem is not null) LogWriteRecovered(logger, grainId.Key.ToString()!, failures);
                Problem = null;
                failures = 0;
            }
            catch (JobFencedException e)
            {
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
        try
        {
            await storage.WriteStateAsync(StateName, grainId, _grainState);
        }
        catch (Exception e) when (e is InconsistentStateException || e.InnerException is InconsistentStateException)
        {
            await Reconcile();
            await storage.WriteStateAsync(StateName, grainId, _grainState);
        }
    }

    /// <summary>Re-reads the stored state: fenced when it belongs to a newer epoch, else takes its ETag to write over it.</summary>
    private async Task Reconcile()
    {
        var stored = new GrainState<JobGrainState>(new JobGrainState());
        await storage.ReadStateAsync(StateName, grainId, stored);
        if (stored.State is { } theirs && theirs.Epoch > State.Epoch)
            throw new JobFencedException(grainId.Key.ToString()!, State.Epoch, theirs.Epoch);
        LogReconciled(logger, grainId.Key.ToString()!, stored.State?.Epoch ?? 0, stored.State?.CompletedSteps ?? 0);
        _grainState.ETag = stored.ETag;
        _grainState.RecordExists = stored.RecordExists;
    }
}
