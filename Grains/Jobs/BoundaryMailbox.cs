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
    private readonly TaskCompletionSource _handOverDeclined = NewSignal();
    private PendingRewind? _rewind;
    private PauseProgress _pause;
    private bool _pauseAfterResume; // paused, resume granted, and a pause asked since: served once the job runs again
    private (int Replicas, string Reason)? _shrinkTo;

    /// <summary>Completes when a request arrives (waits end early on it); <see cref="ConsumeWake"/> re-arms it.</summary>
    public Task Wake => _wake.Task;

    public bool CancelRequested { get; private set; }

    /// <summary>This activation's silo is shutting down: the loop hands the job over at its next step boundary (<see cref="RequestHandOver"/>).</summary>
    public bool HandOverRequested { get; private set; }

    /// <summary>A pause is asked and not yet taken by the loop (<see cref="PauseProgress.Asked"/>).</summary>
    public bool PauseRequested => _pause == PauseProgress.Asked;

    /// <summary>Why the scheduler preempts the job, or null.</summary>
    public string? PreemptedBecause { get; private set; }

    /// <summary>Completes when a paused job is resumed (or cancelled).</summary>
    public Task Resumed => _resumed.Task;

    /// <summary>
    /// A paused job was resumed and its loop has not left Paused yet: the job counts as running for requests made in
    /// that window (a checkpoint asked now is taken at its next step boundary, not answered with the pause's).
    /// Meaningful while the job's state is Paused, or the pause is being served; <see cref="TakePause"/> re-arms it for each pause.
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
        .. _pause is PauseProgress.Asked or PauseProgress.Taken ? ["pause"] : Array.Empty<string>(),
        .. PreemptedBecause is not null ? ["preempt"] : Array.Empty<string>(),
        .. _shrinkTo is { } s ? [$"shrink to {s.Replicas}"] : Array.Empty<string>(),
        .. _moveOff.Keys.Order(StringComparer.Ordinal).Select(n => $"move off {n}"),
        .. HandOverRequested ? ["hand over"] : Array.Empty<string>(),
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

    /// <summary>Asks the loop to hand the job over at its next step boundary, after the other requests there; wakes any wait.</summary>
    public void RequestHandOver()
    {
        HandOverRequested = true;
        _wake.TrySetResult();
    }

    /// <summary>Completes when the loop, asked to hand over, entered a wait that ends at no step boundary soon (<see cref="DeclineHandOver"/>).</summary>
    public Task HandOverDeclined => _handOverDeclined.Task;

    /// <summary>The hand-over asked will not be made soon: whoever waits for it stops waiting.</summary>
    public void DeclineHandOver() => _handOverDeclined.TrySetResult();

    public Task<JobStatus> RequestPause()
    {
        var paused = new TaskCompletionSource<JobStatus>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pauseWaiters.Add(paused);
        if (_pause == PauseProgress.None) _pause = PauseProgress.Asked;
        else if (_pause == PauseProgress.Taken && !CancelRequested) _resumed = NewSignal(); // a resume granted before this pause is withdrawn
        else if (_pause == PauseProgress.Paused) _pauseAfterResume = true; // the loop is leaving Paused: served once it runs
        _wake.TrySetResult();
        return paused.Task;
    }

    /// <summary>
    /// An operator resumed. A pause not yet taken is withdrawn (its callers get <paramref name="status"/>). A pause being
    /// served, or a paused job (<paramref name="paused"/>: its state says Paused, as after a re-activation), is granted
    /// the resume: the job places again as soon as it is paused. Returns whether it was granted (the job will say it
    /// was resumed, naming who asked).
    /// </summary>
    public bool Resume(JobStatus status, bool paused)
    {
        // Paused by an earlier activation: this mailbox never saw the pause, but the job is paused all the same.
        if (paused && _pause == PauseProgress.None && !_resumed.Task.IsCompleted) _pause = PauseProgress.Paused;
        if (_pause == PauseProgress.Asked || _pauseAfterResume)
        {
            // Not taken yet: withdrawn (in Paused, those asked after the last resume; the pause's own were answered).
            if (_pause == PauseProgress.Asked) _pause = PauseProgress.None;
            _pauseAfterResume = false;
            AnswerPauseWaiters(status);
        }
        if (!paused && _pause is not (PauseProgress.Taken or PauseProgress.Paused)) return false;
        _resumed.TrySetResult();
        return true;
    }

    /// <summary>The loop starts serving the pause: from now on a resume is granted rather than withdrawing it, and wakes this pause only.</summary>
    public void TakePause()
    {
        _pause = PauseProgress.Taken;
        if (!CancelRequested) _resumed = NewSignal(); // earlier resumes were for the previous pause
    }

    /// <summary>
    /// The pause taken could not be finished — its checkpoint deferred (storage is out), or serving it failed (a node
    /// lost, the scheduler unreachable): the job goes on or recovers. The pause is asked again — unless a resume came
    /// meanwhile, which withdraws it (its callers get <paramref name="status"/>). Nothing to do once it is paused.
    /// </summary>
    public void PauseDeferred(JobStatus status)
    {
        if (_pause != PauseProgress.Taken) return;
        if (ResumeGranted)
        {
            _pause = PauseProgress.None;
            AnswerPauseWaiters(status);
        }
        else _pause = PauseProgress.Asked;
    }

    /// <summary>
    /// The job is paused now: its callers get <paramref name="status"/>; requests about the freed nodes are dropped. A
    /// checkpoint asked while the pause was served gets the pause's (<paramref name="checkpoint"/>; with none, it
    /// fails), and a rewind's caller hears that it applies on resume: the loop serves neither before then.
    /// </summary>
    public void PausedNow(JobStatus status, CheckpointManifest? checkpoint)
    {
        _pause = PauseProgress.Paused;
        PreemptedBecause = null;
        _shrinkTo = null;
        _moveOff.Clear();
        AnswerPauseWaiters(status);
        foreach (var waiter in TakeCheckpointWaiters())
        {
            if (checkpoint is not null) waiter.TrySetResult(checkpoint);
            else waiter.TrySetException(new InvalidOperationException($"Job {status.JobId} paused before it was placed, so no checkpoint was taken: resume it and ask again."));
        }
        _rewind?.Done.TrySetResult(status); // kept: applied when the job resumes, as for a rewind of a paused job
    }

    /// <summary>The loop leaves Paused to place again; a pause asked after the resume was granted is served at the next step boundary.</summary>
    public void Resuming()
    {
        _pause = _pauseAfterResume ? PauseProgress.Asked : PauseProgress.None;
        _pauseAfterResume = false;
    }

    private void AnswerPauseWaiters(JobStatus status)
    {
        foreach (var waiter in _pauseWaiters) waiter.TrySetResult(status);
        _pauseWaiters.Clear();
    }

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
        _rewind?.Done.TrySetException(new InvalidOperationException($"Superseded by a restore to step {step}."));
        _rewind = new PendingRewind(manifest);
        _wake.TrySetResult();
        return _rewind.Done.Task;
    }

    /// <summary>The placement that applies the pending rewind (<paramref name="who"/> says why), or null.</summary>
    public PlacementRequest? RewindRequest(string who) => _rewind is { } rewind ? PlacementRequest.Rewind(rewind, who) : null;

    /// <summary>
    /// <paramref name="placement"/> applied its rewind: that rewind's caller gets <paramref name="status"/>. A newer
    /// rewind asked while it ran stays pending (the next step boundary applies it); the superseded caller was told so.
    /// </summary>
    public void RewindApplied(PlacementRequest placement, JobStatus status) => Settle(placement, done => done.TrySetResult(status));

    /// <summary><paramref name="placement"/>'s rewind cannot be applied: its caller gets <paramref name="reason"/>; a newer rewind stays pending.</summary>
    public void RewindFailed(PlacementRequest placement, Exception reason) => Settle(placement, done => done.TrySetException(reason));

    private void Settle(PlacementRequest placement, Action<TaskCompletionSource<JobStatus>> answer)
    {
        if (placement.Rewinding is not { } rewind) return;
        answer(rewind.Done);
        if (ReferenceEquals(_rewind, rewind)) _rewind = null;
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
        AnswerPauseWaiters(status);
        _pause = PauseProgress.None;
        _pauseAfterResume = false;
        FailCheckpointsAndRewind(new InvalidOperationException($"No checkpoint was taken: {why}"), new InvalidOperationException($"The restore was not applied: {why}"));
    }

    /// <summary>
    /// This activation stops driving the job (a newer one owns it, or its silo is going away): every waiting caller
    /// fails with <paramref name="why"/> now, so it can ask again, rather than wait out its call's time-out.
    /// </summary>
    public void Abandon(string why)
    {
        var error = new InvalidOperationException(why);
        foreach (var waiter in _pauseWaiters) waiter.TrySetException(error);
        _pauseWaiters.Clear();
        FailCheckpointsAndRewind(error, error);
    }

    private void FailCheckpointsAndRewind(Exception checkpoint, Exception rewind)
    {
        foreach (var waiter in TakeCheckpointWaiters()) waiter.TrySetException(checkpoint);
        _rewind?.Done.TrySetException(rewind);
        _rewind = null;
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
