using Cluster.Grains.Hosting;
using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Scheduling;
using Cluster.Grains.Jobs;

namespace Cluster.Grains.Scheduling;

/// <summary>
/// Rebuilding the table after the scheduler (re)activates — first start, or its silo died.
/// </summary>
/// <remarks>
/// Why the scheduler asks the jobs instead of persisting its table at each decision: each job already persists its
/// placement and epoch before any stage sees them (the job's state is what actually runs), so a second persisted copy
/// would be one more source of truth to drift — written after the decision, it can lag the job's; written before the
/// reply, every placement pays a storage round trip, and the table would be stale anyway for every job that released
/// while the scheduler was down. The job registry (persisted) lists every unfinished job; each reports its placement
/// and epoch on request (<see cref="ITrainingJobGrain.GetStatus"/>, whose placement and epoch the job flushed before
/// configuring stages).
/// <list type="bullet">
/// <item>Until the registry has been read, the scheduler admits nothing, however long that takes (retried with a capped
/// back-off, each failure logged): without the list it cannot know which nodes running jobs hold.</item>
/// <item>Until every listed job has answered, or three rounds of asking have passed, it admits nothing either: a queued
/// job never lands on nodes a running job holds but has not reported yet.</item>
/// <item>A job still silent after that (its grain moving, its silo slow) is asked again every few seconds, and whatever
/// it reports first — its answer, or the placement it holds when it next asks to be placed — is reconciled then.
/// Meanwhile the nodes themselves say what they run: every heartbeat lists the stages on the node (job, epoch,
/// replica, stage), and a node running a stage of a job that has not reported is held back from placement
/// (<see cref="SchedulerTable.HeldBack"/>) until the job is reconciled: it answers, asks, releases, or its stages leave
/// the node; at most for <see cref="SchedulerRules.SilentJobHold"/>. A job that answered is held the same way until its
/// claim is adopted, so no interleaved admission can take its nodes in between.</item>
/// </list>
/// Claims that break the invariant (a node claimed by two jobs) are reconciled: the first claim in order (running jobs
/// first, then the newest epoch, then job id; a late claim comes after every claim already adopted) keeps the node, the
/// other job is told its nodes are lost and recovers elsewhere, and a <see cref="ClusterEventKind.PlacementReconciled"/>
/// event says so; so does every placement adopted this way.
/// </remarks>
internal sealed partial class SchedulerGrain
{
    private static readonly TimeSpan ReportTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan RegistryRetryMaxDelay = TimeSpan.FromSeconds(10);
    private const int RoundsBeforeAdmitting = 3;

    private bool _rebuilt;

    /// <summary>Why the rebuild cannot go on yet (the job registry cannot be read), for refusals; null when it can.</summary>
    private string? _rebuildProblem;

    /// <summary>Ends the rebuild's waits when the activation goes.</summary>
    private readonly CancellationTokenSource _deactivating = new();

    private void StartRebuild() => _ = Rebuild();

    /// <summary>
    /// Reads the registry (until it can), asks, adopts, then admits. A job that fails to answer does not stop the
    /// rebuild after <see cref="RoundsBeforeAdmitting"/> rounds: a rebuild that never finished would stop the whole
    /// fleet from placing. It is asked again each round while it stays unreported (the watch loop ends that after
    /// <see cref="SchedulerRules.SilentJobHold"/>).
    /// </summary>
    private async Task Rebuild()
    {
        var started = time.GetUtcNow();
        IReadOnlyList<string> active;
        try
        {
            active = await ActiveJobs();
        }
        catch (OperationCanceledException)
        {
            return; // deactivated before the registry could be read
        }
        _rebuildProblem = null;
        try
        {
            var asked = time.GetUtcNow();
            foreach (string id in active) _table.Unreported.TryAdd(id, asked);
            // Answers wait here, their jobs still unreported (so their nodes stay held back), until they are adopted.
            var reports = new Dictionary<string, JobReport>(StringComparer.Ordinal);
            for (int round = 1; _table.Unreported.Count > 0; round++)
            {
                var answers = await Task.WhenAll(_table.Unreported.Keys.Where(id => !reports.ContainsKey(id)).ToArray().Select(id => Report(id, round)));
                foreach (var answer in answers.OfType<JobReport>()) reports[answer.JobId] = answer;
                if (round >= RoundsBeforeAdmitting || _table.Unreported.Keys.All(reports.ContainsKey))
                {
                    var (adopted, conflicts) = await Reconcile(reports.Values.ToArray());
                    reports.Clear();
                    if (!_rebuilt)
                        LogRebuilt(logger, active.Count, (time.GetUtcNow() - started).TotalSeconds, adopted, conflicts, _table.Unreported.Count);
                    _rebuilt = true;
                }
                if (_table.Unreported.Count > 0)
                    await Task.Delay(round < RoundsBeforeAdmitting ? options.Value.HeartbeatPeriod : ReportTimeout, time, _deactivating.Token);
            }
        }
        catch (OperationCanceledException)
        {
            return;
        }
        catch (Exception e)
        {
            LogReportFailed(logger, e, "(rebuild)", 0);
        }
        if (!_rebuilt)
            LogRebuilt(logger, active.Count, (time.GetUtcNow() - started).TotalSeconds, _jobs.Count, 0, _table.Unreported.Count);
        _rebuilt = true;
    }

    /// <summary>
    /// The job registry's unfinished jobs, asked until it answers (it may be reactivating on another silo, or its storage
    /// may be out), with a capped exponential back-off on the scheduler's clock. Meanwhile every admission is refused
    /// (<see cref="PlacementRefusal.SchedulerStarting"/>, with the reason): jobs that hold nodes keep running, and no job
    /// is placed onto nodes the scheduler cannot yet know to be taken.
    /// </summary>
    private async Task<IReadOnlyList<string>> ActiveJobs()
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return await GrainFactory.GetGrain<IJobRegistryGrain>(JobRegistryKeys.Default).GetActive().WaitAsync(ReportTimeout, time);
            }
            catch (Exception e) when (!_deactivating.IsCancellationRequested)
            {
                var delay = Backoff.Delay(attempt, options.Value.HeartbeatPeriod, RegistryRetryMaxDelay);
                _rebuildProblem = $"the job registry cannot be read ({attempt} attempt(s), last: {ShortError.Of(e)}); it is asked again in {delay.TotalSeconds:F1} s";
                LogRegistryUnreadable(logger, e, attempt, delay.TotalSeconds);
                await Task.Delay(delay, time, _deactivating.Token);
            }
        }
    }

    /// <summary>What a job says it holds, or null when it did not answer in time.</summary>
    private async Task<JobReport?> Report(string jobId, int attempt)
    {
        try
        {
            var job = GrainFactory.GetGrain<ITrainingJobGrain>(jobId);
            var status = await job.GetStatus().WaitAsync(ReportTimeout, time);
            var spec = await job.GetSpec().WaitAsync(ReportTimeout, time);
            return new JobReport(jobId, status, spec);
        }
        catch (Exception e)
        {
            if (attempt <= RoundsBeforeAdmitting || attempt % 12 == 0) // a silent job is asked every few seconds
                LogReportFailed(logger, e, jobId, attempt);
            return null;
        }
    }

    private sealed record JobReport(string JobId, JobStatus Status, JobSpec? Spec)
    {
        /// <summary>The job holds nodes: it runs, recovers, places or waits with a placement it has not given back.</summary>
        public bool Holds => Spec is not null && Status.Placement.Count > 0
            && Status.State is not (JobState.Pending or JobState.Paused or JobState.Completed or JobState.Failed or JobState.Cancelled);

        public bool Running => Status.State is JobState.Running or JobState.Checkpointing;
    }

    /// <summary>
    /// Adopts the reported placements that keep the invariant; the others are reconciled. Each job leaves
    /// <see cref="SchedulerTable.Unreported"/> in the same step as its claim is adopted (no interleaved admission sees
    /// its nodes free in between); one that released or asked to be placed since is skipped. Returns the counts.
    /// </summary>
    private async Task<(int Adopted, int Conflicts)> Reconcile(IEnumerable<JobReport> reports)
    {
        int adopted = 0, conflicts = 0;
        foreach (var report in reports.OrderByDescending(r => r.Holds).ThenByDescending(r => r.Running).ThenByDescending(r => r.Status.Epoch).ThenBy(r => r.JobId, StringComparer.Ordinal))
        {
            string jobId = report.JobId;
            string[] reporting = NodesReporting(jobId);
            if (!_table.Unreported.Remove(jobId) || _jobs.ContainsKey(jobId)) continue; // released, or asked and placed, since
            if (!report.Holds)
            {
                if (reporting.Length > 0)
                    await PublishReconciled(jobId, report.Status.Epoch, report.Status.CompletedSteps,
                        $"node(s) {string.Join(", ", reporting)} reported stages of job {jobId}, which answered that it holds no nodes ({report.Status.State}): they are placeable again");
                continue;
            }
            var spec = report.Spec!;
            StageDemand[] demands;
            try
            {
                demands = [.. JobSpecs.Demands(spec, JobSpecs.PlanOf(spec))];
            }
            catch (Exception e)
            {
                LogReportFailed(logger, e, jobId, 0); // a spec this version cannot plan: the job places again anyway
                continue;
            }
            var replicas = report.Status.Placement.GroupBy(p => p.Replica).OrderBy(g => g.Key)
                .Select(g => new ReplicaNodes(g.Key, [.. g.OrderBy(p => p.Stage).Select(p => p.NodeId)])).ToArray();
            if (replicas.Any(r => r.Nodes.Count != demands.Length))
                continue; // a placement that does not match its spec's stages: the job places again anyway
            _table.Tickets.TryAdd(jobId, new JobTicket(jobId, spec.Priority, spec.Team, DateTimeOffset.MinValue));
            var row = Row(demands, JobSpecs.ReplicaCounts(spec), replicas, report.Status.Epoch) with { MixedDevices = JobSpecs.MixedDevices(spec) };
            if (await AdoptClaim(jobId, row, $"job {jobId} (epoch {report.Status.Epoch}, {report.Status.State})", report.Status.Epoch, report.Status.CompletedSteps))
                adopted++;
            else
                conflicts++;
        }
        return (adopted, conflicts);
    }

    /// <summary>
    /// A job the registry listed that never answered the rebuild asks to be placed (issue 13, "a job the scheduler does
    /// not know about"): the nodes it says it holds (see <see cref="LateClaim"/>: every replica whose stages all name a
    /// node, blanks of a move filled from what the nodes report) are reconciled before its ask is decided, exactly like
    /// an answer, and <see cref="ClusterEventKind.PlacementReconciled"/> says so. Without this the job would be placed
    /// as if it held nothing: queued behind waiting jobs while it runs, and its nodes free for the taking.
    /// </summary>
    private async Task AdoptLate(string jobId, ReplicaRequest request)
    {
        if (!_table.Unreported.Remove(jobId)) return;
        var held = LateClaim.Replicas(jobId, request, _nodes.Values);
        if (_jobs.ContainsKey(jobId) || held.Length == 0) return; // it holds nothing the scheduler could hand out twice
        var demands = request.Stages.OrderBy(d => d.Stage).ToArray();
        var row = Row(demands, request.ReplicaCounts, held, request.Epoch) with { MixedDevices = request.MixedDevices };
        await AdoptClaim(jobId, row, $"job {jobId} (did not answer the rebuild; asked to be placed in epoch {request.Epoch})", request.Epoch, 0);
    }

    /// <summary>Nodes whose last heartbeat lists a stage of the job.</summary>
    private string[] NodesReporting(string jobId) =>
        [.. _nodes.Values.Where(n => n.Health?.Occupants.Any(o => o.JobId == jobId) == true).Select(n => n.Capabilities.NodeId).Order(StringComparer.Ordinal)];

    /// <summary>
    /// A job left <see cref="SchedulerTable.Unreported"/> without a claim adopted (it released, or stayed silent past
    /// the hold): when nodes reported its stages, they are placeable again, and <see cref="ClusterEventKind.PlacementReconciled"/> says so.
    /// </summary>
    private async Task Unhold(string jobId, string[] reporting, string why)
    {
        if (reporting.Length == 0) return;
        await PublishReconciled(jobId, 0, 0, $"node(s) {string.Join(", ", reporting)} reported stages of job {jobId}, which {why}: they are placeable again");
    }

    private async Task PublishReconciled(string jobId, long epoch, long step, string message)
    {
        LogReconciled(logger, message);
        await this.Publish(new ClusterEvent(time.GetUtcNow(), ClusterEventKind.PlacementReconciled, jobId, null, epoch, step, 0, null, message));
    }

    /// <summary>A table row for replicas a job reported, with its demands (by stage) and replica counts.</summary>
    private static JobNodes Row(IReadOnlyList<StageDemand> demandsByStage, IReadOnlyList<int> replicaCounts, IReadOnlyList<ReplicaNodes> replicas, long epoch)
    {
        int[] counts = [.. replicaCounts.Distinct().OrderDescending()];
        bool replicated = counts[0] > 1;
        var demands = demandsByStage.OrderBy(d => d.Stage).ToArray();
        return new JobNodes(
            [.. replicas.SelectMany(r => r.Nodes)],
            [.. replicas.SelectMany(_ => demands.Select(d => d.MemoryBytes))],
            [.. replicas.SelectMany(r => r.Nodes.Select((_, s) => replicated ? $"r{r.Replica}/s{s}" : $"s{s}"))],
            demands.Length, counts, epoch);
    }

    /// <summary>
    /// Adopts a reported placement unless it breaks the invariant against the rows already held; else the job is told
    /// its contested nodes are lost. Either way a <see cref="ClusterEventKind.PlacementReconciled"/> event says what
    /// happened. True when adopted.
    /// </summary>
    private async Task<bool> AdoptClaim(string jobId, JobNodes row, string who, long epoch, long step)
    {
        var conflict = _table.Adopt(jobId, row);
        string message;
        if (conflict.Count == 0)
        {
            message = $"{who} reported nodes {string.Join(", ", row.Nodes.Distinct(StringComparer.Ordinal))}: adopted into the rebuilt table";
        }
        else
        {
            var holders = _jobs.Where(j => j.Key != jobId && j.Value.Nodes.Any(conflict.Contains)).Select(j => j.Key).ToArray();
            message = $"{who} claims node(s) {string.Join(", ", conflict)} that job(s) {string.Join(", ", holders)} hold: " +
                      "it is told they are lost and recovers elsewhere";
            Send(jobId, job => job.NodesLost([.. conflict], $"node(s) {string.Join(", ", conflict)} are held by job(s) {string.Join(", ", holders)}"));
        }
        CheckInvariant();
        await PublishReconciled(jobId, epoch, step, message);
        return conflict.Count == 0;
    }
}
