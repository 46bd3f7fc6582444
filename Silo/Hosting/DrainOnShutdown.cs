using Cluster.Grains.Checkpoints;
using Cluster.Grains.Compute;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Nodes;
using Cluster.Grains.Interfaces.Scheduling;
using Cluster.Grains.Jobs;
using Cluster.Silo.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cluster.Silo.Hosting;

/// <summary>
/// Graceful shutdown (SIGTERM, systemctl stop): before this silo leaves the cluster, asks the scheduler to drain its
/// nodes and waits — bounded by <see cref="ShutdownOptions.DrainTimeout"/> — until none of them runs a stage any more
/// (neither in the scheduler's placement nor on this machine's device workers),
/// so jobs move on from live state instead of recovering from a checkpoint. Then, within the same bound, it waits until
/// the grains that moved off this silo have taken the copies they left here (<see cref="MigrationParcels"/>): a moved
/// stage's own snapshots and a moved holder's wait here until the new activation reads them, and leaving before that
/// would lose them — the job would then restore from the other copy, or from a checkpoint. A stage counts from the
/// moment it gives up its device, before Orleans dehydrates it (<see cref="MigrationParcels.Departing"/>), so no
/// drained node hides a move still under way. Last, within the same bound, it waits until every job that ran stages
/// here has completed a step since (or stopped running): calls to a moved stage sent to its old address pass through
/// this silo to be forwarded until the callers learn the new one, and a call still on its way here when the silo
/// leaves is lost with it — the job then recovers although nothing failed (seen in CI with the job's configuration of
/// the moved stage; the job now sends a lost configuration again, but a step's calls are not sent twice). A step
/// completed on the new placement means the job has configured and reached every moved stage there.
/// Invariant: a graceful shutdown that ends within <see cref="ShutdownOptions.DrainTimeout"/> leaves no copy of a moved
/// grain behind, and no job mid-move.
/// Runs first in the silo's stop sequence (the Active stage), while this silo still serves calls.
/// </summary>
internal sealed partial class DrainOnShutdown(
    DeviceWorkerPool workers, MigrationParcels parcels, IGrainFactory grains, ILocalSiloDetails localSilo, IOptions<ShutdownOptions> options, TimeProvider time,
    ILogger<DrainOnShutdown> logger)
    : ILifecycleParticipant<ISiloLifecycle>
{
    private static readonly TimeSpan s_pollInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>How many times a job that ran stages here is asked its status before this silo stops waiting for it (about 5 s).</summary>
    private const int UnansweredPolls = 20;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(DrainOnShutdown), ServiceLifecycleStage.Active, _ => Task.CompletedTask, StopAsync);

    internal async Task StopAsync(CancellationToken hostStopping)
    {
        var settings = options.Value;
        if (!settings.Drain) return;
        using var deadline = new CancellationTokenSource(settings.DrainTimeout, time);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, hostStopping);
        try
        {
            var jobs = await DrainNodes(stop.Token);
            var drainedAt = await StepsOf(jobs, stop.Token);
            await WaitForParcels(stop.Token);
            await WaitForJobsToStep(drainedAt, stop.Token);
        }
        catch (OperationCanceledException)
        {
            LogDrainTimedOut(logger, settings.DrainTimeout.TotalSeconds, parcels.Count);
        }
        catch (Exception e)
        {
            // E.g. the scheduler cannot drain (an older version) or is unreachable: leave anyway; jobs recover as after a loss.
            LogDrainFailed(logger, e);
        }
    }

    /// <summary>Drains this silo's nodes and waits until none runs a stage; returns the jobs whose stages were on them.</summary>
    private async Task<HashSet<string>> DrainNodes(CancellationToken stop)
    {
        var jobs = new HashSet<string>(StringComparer.Ordinal);
        var nodes = workers.NodeIds.ToHashSet(StringComparer.Ordinal);
        if (nodes.Count == 0) return jobs;
        var scheduler = grains.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);
        long started = time.GetTimestamp();
        LogDraining(logger, string.Join(", ", nodes));
        foreach (string node in nodes)
        {
            try
            {
                jobs.UnionWith((await DrainLeaving(scheduler, node, stop)).Stages.Select(JobOf));
            }
            catch (NodeNotFoundException)
            {
                // never registered (e.g. stopped during start-up): nothing runs there
            }
        }
        while (true)
        {
            // Gone in the scheduler's placement, and gone from this machine's devices (the moved stages detached).
            var placed = (await Scheduler(scheduler.GetNodes, stop))
                .Where(n => nodes.Contains(n.Capabilities.NodeId) && n.Stages.Count > 0)
                .SelectMany(n => n.Stages)
                .ToList();
            jobs.UnionWith(placed.Select(JobOf));
            if (placed.Count == 0 && workers.Workers.All(w => w.ActiveStages == 0))
            {
                LogDrained(logger, time.GetElapsedTime(started).TotalSeconds);
                return jobs;
            }
            await Task.Delay(s_pollInterval, time, stop);
        }
    }

    /// <summary>
    /// Drains <paramref name="node"/> for this incarnation of the silo only (<see cref="ISchedulerGrain.DrainLeaving"/>: the
    /// node takes stages again once the silo is back). A scheduler of an older version (a rolling update reaches it
    /// last) does not know that call: the node is then drained as an operator would, a mark its restart does not end.
    /// </summary>
    private async Task<NodeInfo> DrainLeaving(ISchedulerGrain scheduler, string node, CancellationToken stop)
    {
        try
        {
            return await Scheduler(() => scheduler.DrainLeaving(node, localSilo.SiloAddress.ToParsableString()), stop);
        }
        catch (Exception e) when (e is not (NodeNotFoundException or OperationCanceledException or TimeoutException or OrleansMessageRejectionException))
        {
            LogDrainLeavingRefused(logger, node, e.Message);
            return await Scheduler(() => scheduler.Drain(node), stop);
        }
    }

    /// <summary>
    /// A call to the scheduler, sent again while a stopping silo rejects it unrun (<see cref="StoppingSiloRetry"/>): the
    /// scheduler's own silo may be leaving too (two silos stopped at once, or the scheduler's silo just before this one).
    /// Before, the first rejection ended the drain ("Could not drain"), and this silo's jobs recovered.
    /// </summary>
    private Task<T> Scheduler<T>(Func<Task<T>> call, CancellationToken stop) => StoppingSiloRetry.Call(call, time).WaitAsync(stop);

    /// <summary>The job of a stage the scheduler lists on a node ("job/s1", "job/r1/s0"): job ids hold no '/'.</summary>
    private static string JobOf(string stage) => stage.Split('/')[0];

    /// <summary>
    /// Each of <paramref name="jobs"/>' completed steps now, while it still runs; a job no longer running is left out.
    /// One that does not answer is asked again at each poll, up to <see cref="UnansweredPolls"/> times, and then left
    /// out with a warning (its coordinator lost: it recovers, whatever this silo does). Before, one unanswered question
    /// left the job out, and this silo could leave with the job's calls to its moved stage still passing through it.
    /// </summary>
    private async Task<Dictionary<string, long>> StepsOf(IEnumerable<string> jobs, CancellationToken stop)
    {
        var steps = new Dictionary<string, long>(StringComparer.Ordinal);
        var unanswered = jobs.ToHashSet(StringComparer.Ordinal);
        for (int poll = 1; unanswered.Count > 0; poll++)
        {
            foreach (string jobId in unanswered.ToArray())
            {
                if (await StatusOf(jobId, stop) is not { } status) continue;
                unanswered.Remove(jobId);
                if (Runs(status.State)) steps[jobId] = status.CompletedSteps;
            }
            if (unanswered.Count == 0) break;
            if (poll == UnansweredPolls)
            {
                LogJobsNotWaitedFor(logger, string.Join(", ", unanswered.Order(StringComparer.Ordinal)), poll);
                break;
            }
            await Task.Delay(s_pollInterval, time, stop);
        }
        return steps;
    }

    /// <summary>The job's status; null (logged) when it does not answer — its coordinator moving or lost.</summary>
    private async Task<JobStatus?> StatusOf(string jobId, CancellationToken stop)
    {
        try
        {
            return await grains.GetGrain<ITrainingJobGrain>(jobId).GetStatus().WaitAsync(stop);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogJobNotAnswering(logger, jobId, e.Message);
            return null;
        }
    }

    /// <summary>Waits until each job of <paramref name="drainedAt"/> has completed a step past the one it had when this silo's nodes were drained, or stopped running.</summary>
    private async Task WaitForJobsToStep(Dictionary<string, long> drainedAt, CancellationToken stop)
    {
        if (drainedAt.Count == 0) return;
        long started = time.GetTimestamp();
        LogWaitingForJobs(logger, string.Join(", ", drainedAt.Keys.Order(StringComparer.Ordinal)));
        var waiting = new Dictionary<string, long>(drainedAt, StringComparer.Ordinal);
        while (true)
        {
            foreach (var (jobId, step) in waiting.ToArray())
                if (await StatusOf(jobId, stop) is { } status && (!Runs(status.State) || status.CompletedSteps > step)) // no answer: asked again at the next poll
                    waiting.Remove(jobId);
            if (waiting.Count == 0)
            {
                LogJobsStepped(logger, time.GetElapsedTime(started).TotalSeconds);
                return;
            }
            await Task.Delay(s_pollInterval, time, stop);
        }
    }

    /// <summary>A job that is placed or being placed: it will complete steps; one pending, waiting, paused or finished will not soon.</summary>
    private static bool Runs(JobState state) => state is JobState.Placing or JobState.Running or JobState.Checkpointing or JobState.Recovering;

    private async Task WaitForParcels(CancellationToken stop)
    {
        int held = parcels.Count;
        if (held == 0) return;
        long started = time.GetTimestamp();
        LogWaitingForParcels(logger, held);
        await parcels.WhenEmpty(stop);
        LogParcelsTaken(logger, time.GetElapsedTime(started).TotalSeconds);
    }
}
