using Cluster.Grains.Hosting;
using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Scheduling;
using Cluster.Grains.Security;

namespace Cluster.Grains.Jobs;

/// <summary>
/// The console's operator surface: actions with a recorded reason (cancel, pause), <c>job update</c> of priority and
/// replica maximum, <c>job delete</c> (optionally purging checkpoints and history), and paged loss history.
/// </summary>
internal sealed partial class TrainingJobGrain
{
    /// <summary>The most losses one <see cref="GetLosses"/> page returns.</summary>
    public const int MaxLossPage = 10_000;

    private (string? Reason, string? Principal)? _pausedBy; // recorded on the JobPaused event the pause ends in
    private readonly Dictionary<ClusterEventKind, string?> _askedBy = []; // who asked for the JobUnpaused, CheckpointCreated or JobRewound event to come

    public async Task<JobStatus> Cancel(string? reason)
    {
        if (S.Spec is not null && !S.State.IsTerminal())
        {
            await _narrator.CancelRequested(reason, OperatorCalls.CurrentPrincipal);
        }
        return await Cancel();
    }

    public Task<JobStatus> Pause(string? reason)
    {
        // Read now: the loop that narrates the pause later runs in the submitter's call context, not this one.
        if (S.Spec is not null && !S.State.IsTerminal() && !StaysPaused) _pausedBy = (JobNarrator.Trimmed(reason), OperatorCalls.CurrentPrincipal);
        return Pause();
    }

    public async Task<JobStatus> Update(JobUpdate update)
    {
        ArgumentNullException.ThrowIfNull(update);
        RequireSubmitted();
        string jobId = this.GetPrimaryKeyString();
        if (update.Priority is null && update.MaxReplicas is null)
            throw new JobSpecInvalidException(["nothing to update: give a new priority and/or a new maxReplicas."]);
        if (S.State.IsTerminal())
            throw new InvalidOperationException($"Job {jobId} is {S.State}; a finished job cannot be updated. Clone it to run it again with other settings.");
        var before = S.Spec!;
        var spec = before with { Priority = update.Priority ?? before.Priority, MaxReplicas = update.MaxReplicas ?? before.MaxReplicas };
        // Only what an update can change can be wrong now: the rest was valid at submission (and the data source is pinned).
        var problems = JobSpecs.Validate(spec, jobId, dataSourceProblem: null);
        if (problems.Count > 0)
            throw new JobSpecInvalidException(problems);
        if (spec == before) return Status();

        S.Spec = spec;
        await _writer.Flush();
        if (spec.Priority != before.Priority)
            await _scheduler.Call(s => s.Enqueue(new JobTicket(jobId, spec.Priority, spec.Team, S.SubmittedAt ?? time.GetUtcNow())));
        // Acted on at the next step boundary, whatever the job does now: one placing with the old maximum shrinks
        // right after (it reads the updated spec from its next step on); one that runs no more replicas ignores it.
        if (spec.MaxReplicas < before.MaxReplicas) ShrinkToMaximum(spec.MaxReplicas);
        var changes = new List<string>();
        if (spec.Priority != before.Priority) changes.Add($"priority {before.Priority} → {spec.Priority}");
        if (spec.MaxReplicas != before.MaxReplicas) changes.Add($"max replicas {before.MaxReplicas} → {spec.MaxReplicas}");
        LogUpdated(logger, jobId, string.Join(", ", changes));
        await _narrator.Updated(changes, update.Reason, OperatorCalls.CurrentPrincipal);
        return Status();
    }

    private void ShrinkToMaximum(int maxReplicas) => _mailbox.RequestShrink(maxReplicas, $"an operator lowered the replica maximum to {maxReplicas}");

    /// <summary>
    /// Deletes a finished job's state (and with <paramref name="purge"/> its checkpoints and history). One deletion at a
    /// time: a call while one is under way (a retry after a time-out) joins it and gets its outcome, rather than
    /// deleting and announcing twice — if it asks the same (purge or not); a submission of the same id is refused until
    /// it has finished (<see cref="Submit"/>).
    /// </summary>
    public Task<JobDeletion> Delete(bool purge, string? reason)
    {
        if (_deletion is { Done.IsCompleted: false } underWay)
        {
            return purge == underWay.Purges ? underWay.Done : throw new InvalidOperationException(
                $"Job {this.GetPrimaryKeyString()} is being deleted {(underWay.Purges ? "with" : "without")} its checkpoints and history: wait for that to finish (then the job is gone), or ask the same.");
        }
        RequireSubmitted();
        string jobId = this.GetPrimaryKeyString();
        if (!S.State.IsTerminal())
            throw new InvalidOperationException($"Job {jobId} is {S.State}: only a finished job can be deleted. Cancel it first, or delete it with force (which cancels it first).");
        if (_writer.Fenced is { } fenced) throw fenced;
        var deletion = DeleteFinished(jobId, purge, reason);
        _deletion = (deletion, purge);
        return deletion;
    }

    private async Task<JobDeletion> DeleteFinished(string jobId, bool purge, string? reason)
    {
        if (_loop is { IsCompleted: false } loop) await loop; // it is finishing: let it write its last state first
        var state = S.State;
        var manifests = await store.ListManifestsAsync(jobId);
        int deleted = 0;
        if (purge)
        {
            foreach (var manifest in manifests)
            {
                await store.DeleteCheckpointAsync(manifest);
                deleted++;
            }
            await store.DeleteUncommittedAsync(jobId, long.MaxValue, long.MaxValue);
        }
        var e = _narrator.Deleted(state, purge, deleted, manifests.Count, reason, OperatorCalls.CurrentPrincipal)
            with { Team = S.Spec?.Team }; // the team now: the state is cleared before it is published
        await _writer.ClearAsync();
        await Registry.Forget(jobId);
        // A purged job's history goes with it: its last event is only on the live stream.
        await this.Publish(e, record: !purge);
        if (purge) await GrainFactory.GetGrain<IJobEventLogGrain>(jobId).Clear();
        _timings.Clear();
        LogDeleted(logger, jobId, purge);
        DeactivateOnIdle();
        return new JobDeletion(jobId, state, purge, deleted, purge ? 0 : manifests.Count);
    }

    public Task<LossPage> GetLosses(long fromStep, int limit)
    {
        if (fromStep < 1)
            throw new ArgumentOutOfRangeException(nameof(fromStep), fromStep, "Steps count from 1: ask from step 1 or later.");
        if (limit is < 1 or > MaxLossPage)
            throw new ArgumentOutOfRangeException(nameof(limit), limit, $"A page holds 1 to {MaxLossPage} losses: ask for fewer and page on.");
        var losses = _writer.Losses;
        int start = (int)Math.Min(fromStep - 1, losses.Count);
        int count = Math.Min(limit, losses.Count - start);
        var page = new double[count];
        for (int i = 0; i < count; i++) page[i] = losses[start + i];
        return Task.FromResult(new LossPage(fromStep, page, losses.Count));
    }

    /// <summary>The operator's reason on the event a requested action ends in (a pause is narrated when it happens).</summary>
    private ClusterEvent WithOperatorReason(ClusterEvent e)
    {
        // An operator's resume, checkpoint or rewind is acted on at a step boundary, after the call returned: its
        // principal, kept when the call arrived, goes on the event the request ends in.
        if (e.Principal is null && _askedBy.Remove(e.Kind, out string? askedBy)) return e with { Principal = askedBy };
        if (e.Kind != ClusterEventKind.JobPaused || _pausedBy is not { } pausedBy) return e;
        _pausedBy = null;
        var (reason, principal) = pausedBy;
        return e with { Reason = reason, Principal = principal, Message = e.Message + JobNarrator.Because(reason) };
    }
}
