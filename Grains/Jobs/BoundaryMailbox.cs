using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Jobs;

namespace Cluster.Grains.Jobs;

/// <summary>
/// Requests that a job acts on between two steps (every stage has applied the same number of updates), posted by the
/// grain's interface methods and taken by the driver loop. Served in this priority, highest first:
/// <list type="number">
/// <item>cancel (checked before anything else, at every phase);</item>
/// <item>rewind to a committed checkpoint (an operator's; a newer one supersedes an older one);</item>
/// <item>checkpoint now (an operator's; every waiter gets the same manifest);</item>
/// <item>pause (needs a committed checkpoint: waits while storage is out);</item>
/// <item>preempt (the scheduler's; needs a committed checkpoint too);</item>
/// <item>shrink to fewer replicas (the scheduler's);</item>
/// <item>move stages off nodes (drains and stragglers);</item>
/// <item>growth, asked by the job itself when nothing above is pending.</item>
/// </list>
/// Stale requests are dropped, never served late: a new placement (<see cref="Placed"/>) drops moves and shrinks (they
/// name nodes and counts of the placement that was replaced; the scheduler counts a shrink as done once the job places
/// again); pausing (<see cref="PausedNow"/>) drops preemption, shrinks and moves (the nodes are freed already; the
/// scheduler forgets them on release). Preemption survives a placement: the scheduler still waits for those nodes.
/// Not thread-safe: used on the grain's turns only.
/// </summary>
internal sealed class BoundaryMailbox
{
    private readonly Dictionary<string, string> _moveOff = new(StringComparer.Ordinal); // node → why
    private readonly List<TaskCompletionSource<CheckpointManifest>> _checkpointWaiters = [];
    private readonly List<TaskCompletionSource<JobStatus>> _pauseWaiters = [];
    private TaskCompletionSource _wake = NewSignal();
    private TaskCompletionSource _resumed = NewSignal();
    private (CheckpointManifest? Manifest, TaskCompletionSource<JobStatus> Done)? _rewind; // null manifest: the initial weights
    private (int Replicas, string Reason)? _shrinkTo;

    /// <summary>Completes when a request arrives (waits end early on it); <see cref="ConsumeWake"/> re-arms it.</summary>
    public Task Wake => _wake.Task;

    public bool CancelRequested { get; private set; }

    public bool PauseRequested { get; private set; }

    /// <summary>Why the scheduler preempts the job, or null.</summary>
    public string? PreemptedBecause { get; private set; }

    /// <summary>Completes when a paused job is resumed (or cancelled).</summary>
    public Task Resumed => _resumed.Task;

    /// <summary>
    /// A paused job was resumed and its loop has not left Paused yet: the job counts as running for requests made in
    /// that window (a checkpoint asked now is taken at its next step boundary, not answered with the pause's).
    /// Meaningful while the job's state is Paused only; <see cref="Pausing"/> re-arms it for each pause.
    /// </summary>
    public bool ResumeGranted => _resumed.Task.IsCompleted && !CancelRequested;

    public bool HasCheckpointWaiters => _checkpointWaiters.Count > 0;

    public bool HasRewind => _rewind is not null;

    /// <summary>Every pending request, highest priority first (for status and tests).</summary>
    public IReadOnlyList<string> Pending =>
    [
        .. CancelRequested ? ["cancel"] : Array.Empty<string>(),
        .. _rewind is { } r ? [r.Manifest is null ? "rewind to step 0" : $"rewind to step {r.Manifest.Step}"] : Array.Empty<string>(),
        .. _checkpointWaiters.Count > 0 ? ["checkpoint"] : Array.Empty<string>(),
        .. PauseRequested ? ["pause"] : Array.Empty<string>(),
        .. PreemptedBecause is not null ? ["preempt"] : Array.Empty<string>(),
        .. _shrinkTo is { } s ? [$"shrink to {s.Replicas}"] : Array.Empty<string>(),
        .. _moveOff.Keys.Order(StringComparer.Ordinal).Select(n => $"move off {n}"),
    ];

    public void ConsumeWake()
    {
        if (_wake.Task.IsCompleted) _wake = NewSignal();
    }

    public void RequestCancel()
    {
        CancelRequested = true;
        _resumed.TrySetResult(); // a paused job wakes to finish
        _wake.TrySetResult();
    }

    public Task<JobStatus> RequestPause()
    {
        var paused = new TaskCompletionSource<JobStatus>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pauseWaiters.Add(paused);
        PauseRequested = true;
        _wake.TrySetResult();
        return paused.Task;
    }

    /// <summary>An operator resumed: a pause not yet taken is withdrawn (its callers get <paramref name="status"/>); a paused job wakes.</summary>
    public void Resume(JobStatus status, bool paused)
    {
        PauseRequested = false;
        foreach (var waiter in _pauseWaiters) waiter.TrySetResult(status);
        _pauseWaiters.Clear();
        if (paused) _resumed.TrySetResult();
    }

    /// <summary>The job is paused now: its callers get <paramref name="status"/>; requests about the freed nodes are dropped.</summary>
    public void PausedNow(JobStatus status)
    {
        PauseRequested = false;
        PreemptedBecause = null;
        _shrinkTo = null;
        _moveOff.Clear();
        foreach (var waiter in _pauseWaiters) waiter.TrySetResult(status);
        _pauseWaiters.Clear();
    }

    /// <summary>About to pause: a resume from now on wakes this pause (earlier ones were for the previous one).</summary>
    public void Pausing() => _resumed = CancelRequested ? _resumed : NewSignal();

    public Task<CheckpointManifest> RequestCheckpoint()
    {
        var done = new TaskCompletionSource<CheckpointManifest>(TaskCreationOptions.RunContinuationsAsynchronously);
        _checkpointWaiters.Add(done);
        return done.Task;
    }

    /// <summary>Takes every checkpoint waiter (the caller answers them all).</summary>
    public TaskCompletionSource<CheckpointManifest>[] TakeCheckpointWaiters()
    {
        var waiters = _checkpointWaiters.ToArray();
        _checkpointWaiters.Clear();
        return waiters;
    }

    /// <summary>Asks to rewind to <paramref name="manifest"/> (null: the initial weights); an earlier rewind not yet applied is superseded.</summary>
    public Task<JobStatus> RequestRewind(CheckpointManifest? manifest, long step)
    {
        var done = new TaskCompletionSource<JobStatus>(TaskCreationOptions.RunContinuationsAsynchronously);
        _rewind?.Done.TrySetException(new InvalidOperationException($"Superseded by a restore to step {step}."));
        _rewind = (manifest, done);
        _wake.TrySetResult();
        return done.Task;
    }

    /// <summary>The placement that applies the pending rewind (<paramref name="who"/> says why), or null.</summary>
    public PlacementRequest? RewindRequest(string who) => _rewind is { } rewind ? PlacementRequest.Rewind(rewind.Manifest, who) : null;

    public void RewindApplied(JobStatus status)
    {
        _rewind?.Done.TrySetResult(status);
        _rewind = null;
    }

    public void RewindFailed(Exception reason)
    {
        _rewind?.Done.TrySetException(reason);
        _rewind = null;
    }

    public void RequestPreempt(string reason) => PreemptedBecause = reason;

    /// <summary>The preemption was served: nodes freed.</summary>
    public void Preempted() => PreemptedBecause = null;

    public void RequestShrink(int replicas, string reason) => _shrinkTo = (replicas, reason);

    public (int Replicas, string Reason)? TakeShrink()
    {
        var shrink = _shrinkTo;
        _shrinkTo = null;
        return shrink;
    }

    public void RequestMove(string nodeId, string why) => _moveOff[nodeId] = why;

    public bool HasMoves => _moveOff.Count > 0;

    public Dictionary<string, string> TakeMoves()
    {
        var moves = _moveOff.ToDictionary(StringComparer.Ordinal);
        _moveOff.Clear();
        return moves;
    }

    /// <summary>The scheduler placed the job anew: moves and shrinks asked of the old placement are moot.</summary>
    public void Placed()
    {
        _shrinkTo = null;
        _moveOff.Clear();
    }

    /// <summary>
    /// The job ended (<paramref name="status"/>): nothing is served after this, so every waiting caller is answered
    /// now rather than left to its call's time-out. A pause gets the final status (the job stopped); a checkpoint and
    /// a rewind not yet served fail with <paramref name="why"/>.
    /// </summary>
    public void Ended(JobStatus status, string why)
    {
        foreach (var waiter in _pauseWaiters) waiter.TrySetResult(status);
        _pauseWaiters.Clear();
        PauseRequested = false;
        foreach (var waiter in TakeCheckpointWaiters()) waiter.TrySetException(new InvalidOperationException($"No checkpoint was taken: {why}"));
        RewindFailed(new InvalidOperationException($"The restore was not applied: {why}"));
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
