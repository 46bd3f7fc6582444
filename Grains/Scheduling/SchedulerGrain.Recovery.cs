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
/// configuring stages). Until every listed job has answered (or three rounds of asking have passed), the scheduler
/// admits nothing: a queued job never lands on nodes a running job holds but has not reported yet. Claims that break
/// the invariant (a node claimed by two jobs) are reconciled: the first claim in order (running jobs first, then the
/// newest epoch, then job id) keeps the node, the other job is told its nodes are lost and recovers elsewhere, and a
/// <see cref="ClusterEventKind.PlacementReconciled"/> event says so; so does every placement adopted this way.
/// </remarks>
internal sealed partial class SchedulerGrain
{
    private static readonly TimeSpan ReportTimeout = TimeSpan.FromSeconds(5);
    private const int RoundsBeforeAdmitting = 3;
    private const int MaxRounds = 20;

    private bool _rebuilt;

    /// <summary>Jobs that released while the table was being rebuilt: a late report of theirs is stale.</summary>
    private HashSet<string>? _releasedWhileRebuilding = new(StringComparer.Ordinal);

    private void StartRebuild() => _ = Rebuild();

    /// <summary>
    /// Asks, adopts, then admits. Whatever goes wrong in here (a report that cannot be read), the scheduler ends up
    /// admitting: a rebuild that never finished would stop the whole fleet from placing.
    /// </summary>
    private async Task Rebuild()
    {
        var started = time.GetUtcNow();
        try
        {
            IReadOnlyList<string> active = await ActiveJobs();
            var silent = new HashSet<string>(active, StringComparer.Ordinal);
            var reports = new List<JobReport>();
            for (int round = 1; silent.Count > 0 && round <= MaxRounds; round++)
            {
                var answers = await Task.WhenAll(silent.Select(id => Report(id, round)));
                foreach (var answer in answers.OfType<JobReport>())
                {
                    silent.Remove(answer.JobId);
                    reports.Add(answer);
                }
                if (round == RoundsBeforeAdmitting || silent.Count == 0)
                {
                    var (adopted, conflicts) = await Reconcile(reports);
                    reports.Clear();
                    if (!_rebuilt)
                        LogRebuilt(logger, active.Count, (time.GetUtcNow() - started).TotalSeconds, adopted, conflicts, silent.Count);
                    _rebuilt = true;
                }
                if (silent.Count > 0)
                    await Task.Delay(round < RoundsBeforeAdmitting ? options.Value.HeartbeatPeriod : ReportTimeout, time);
            }
            if (reports.Count > 0) await Reconcile(reports);
        }
        catch (Exception e)
        {
            LogReportFailed(logger, e, "(rebuild)", 0);
        }
        finally
        {
            _rebuilt = true;
            _releasedWhileRebuilding = null;
        }
    }

    /// <summary>
    /// The job registry's unfinished jobs, asked a few times (it may be reactivating on another silo). When it cannot
    /// be read at all (its storage is out) the scheduler admits anyway, with only the nodes' word: jobs that hold nodes
    /// then keep them by placing again with their current nodes preferred, and the log says it started blind.
    /// </summary>
    private async Task<IReadOnlyList<string>> ActiveJobs()
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return await GrainFactory.GetGrain<IJobRegistryGrain>(JobRegistryKeys.Default).GetActive().WaitAsync(ReportTimeout, time);
            }
            catch (Exception e) when (attempt < RoundsBeforeAdmitting)
            {
                LogReportFailed(logger, e, JobRegistryKeys.Default, attempt);
                await Task.Delay(options.Value.HeartbeatPeriod, time);
            }
            catch (Exception e)
            {
                LogReportFailed(logger, e, JobRegistryKeys.Default, attempt);
                return [];
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

    /// <summary>Adopts the reported placements that keep the invariant; the others are reconciled. Returns the counts.</summary>
    private async Task<(int Adopted, int Conflicts)> Reconcile(IEnumerable<JobReport> reports)
    {
        int adopted = 0, conflicts = 0;
        var now = time.GetUtcNow();
        foreach (var report in reports.Where(r => r.Holds).OrderByDescending(r => r.Running).ThenByDescending(r => r.Status.Epoch).ThenBy(r => r.JobId, StringComparer.Ordinal))
        {
            string jobId = report.JobId;
            if (_jobs.ContainsKey(jobId) || _releasedWhileRebuilding?.Contains(jobId) == true) continue; // it placed or released since
            var spec = report.Spec!;
            StageDemand[] demands;
            try
            {
                demands = [.. JobSpecs.Demands(spec, JobSpecs.PlanOf(spec)).OrderBy(d => d.Stage)];
            }
            catch (Exception e)
            {
                LogReportFailed(logger, e, jobId, 0); // a spec this version cannot plan: the job places again anyway
                continue;
            }
            var replicas = report.Status.Placement.GroupBy(p => p.Replica).OrderBy(g => g.Key).ToArray();
            if (replicas.Any(r => r.Count() != demands.Length))
                continue; // a placement that does not match its spec's stages: the job places again anyway
            int[] counts = [.. JobSpecs.ReplicaCounts(spec).Distinct().OrderDescending()];
            bool replicated = counts[0] > 1;
            var row = new JobNodes(
                [.. replicas.SelectMany(r => r.OrderBy(p => p.Stage).Select(p => p.NodeId))],
                [.. replicas.SelectMany(_ => demands.Select(d => d.MemoryBytes))],
                [.. replicas.SelectMany(r => r.OrderBy(p => p.Stage).Select(p => replicated ? $"r{r.Key}/s{p.Stage}" : $"s{p.Stage}"))],
                demands.Length, counts, report.Status.Epoch);
            _table.Tickets.TryAdd(jobId, new JobTicket(jobId, spec.Priority, spec.Team, DateTimeOffset.MinValue));
            var conflict = _table.Adopt(jobId, row);
            string message;
            if (conflict.Count == 0)
            {
                adopted++;
                message = $"job {jobId} (epoch {report.Status.Epoch}, {report.Status.State}) reported nodes {string.Join(", ", row.Nodes.Distinct(StringComparer.Ordinal))}: adopted into the rebuilt table";
            }
            else
            {
                conflicts++;
                var holders = _jobs.Where(j => j.Value.Nodes.Any(conflict.Contains)).Select(j => j.Key).ToArray();
                message = $"job {jobId} (epoch {report.Status.Epoch}) claims node(s) {string.Join(", ", conflict)} that job(s) {string.Join(", ", holders)} hold: " +
                          "it is told they are lost and recovers elsewhere";
                Send(jobId, job => job.NodesLost([.. conflict], $"node(s) {string.Join(", ", conflict)} are held by job(s) {string.Join(", ", holders)}"));
            }
            LogReconciled(logger, message);
            await this.Publish(new ClusterEvent(now, ClusterEventKind.PlacementReconciled, jobId, null, report.Status.Epoch, report.Status.CompletedSteps, 0, null, message));
        }
        CheckInvariant();
        return (adopted, conflicts);
    }
}
