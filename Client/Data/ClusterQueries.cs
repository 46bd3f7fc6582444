using Cluster.Client.Matching;
using Cluster.Client.Views;
using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Nodes;
using Cluster.Grains.Interfaces.Scheduling;
using Cluster.Grains.Interfaces.Security;

namespace Cluster.Client.Data;

/// <summary>Everything the commands read from or ask of the cluster, as views; no rendering here.</summary>
internal sealed class ClusterQueries(IClusterClient client, TimeProvider time)
{
    public ISchedulerGrain Scheduler => client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);

    public IJobRegistryGrain Registry => client.GetGrain<IJobRegistryGrain>(JobRegistryKeys.Default);

    public ITrainingJobGrain Job(string jobId) => client.GetGrain<ITrainingJobGrain>(jobId);

    public IJobEventLogGrain EventLog(string jobId) => client.GetGrain<IJobEventLogGrain>(jobId);

    /// <summary>
    /// A page of a job's recorded history. A deleted job (not purged) still has one: it is shown; a job with neither
    /// state nor history is a <see cref="NotFoundException"/> with close matches.
    /// </summary>
    public async Task<JobEventsView> GetJobEventsAsync(string jobId, JobEventQuery query)
    {
        try
        {
            await RequireJobAsync(jobId);
        }
        catch (NotFoundException)
        {
            if ((await EventLog(jobId).GetPage(query with { Limit = 1 })).Last == 0) throw;
        }
        return JobEventsView.From(jobId, await EventLog(jobId).GetPage(query));
    }

    /// <summary>
    /// A page of the cluster's recorded node events; with <paramref name="nodeId"/>, that node's only. A node the
    /// scheduler does not know and the history never names is a <see cref="NotFoundException"/> with close matches (a
    /// node that left the cluster keeps its history).
    /// </summary>
    public async Task<ClusterEventsView> GetClusterEventsAsync(JobEventQuery query)
    {
        var page = await EventLog(EventLogKeys.Cluster).GetPage(query);
        if (query.NodeId is { } nodeId && page.Events.Count == 0 && query.Before is null && query.After is null)
        {
            var ids = (await Scheduler.GetNodes()).Select(n => n.Capabilities.NodeId).ToArray();
            if (!ids.Contains(nodeId, StringComparer.Ordinal))
                throw new NotFoundException("Node", nodeId, CloseMatches.Find(nodeId, ids), "List the nodes with 'nodes'.");
        }
        return ClusterEventsView.From(query.NodeId, page);
    }

    public async Task<IReadOnlyList<NodeView>> GetNodesAsync()
    {
        var now = time.GetUtcNow();
        return [.. (await Scheduler.GetNodes()).OrderBy(n => n.Capabilities.NodeId, StringComparer.Ordinal).Select(n => NodeView.From(n, now))];
    }

    public async Task<IReadOnlyList<JobView>> GetJobsAsync()
    {
        var ids = await Registry.GetAll();
        var statuses = await Task.WhenAll(ids.Select(id => Job(id).GetStatus()));
        return [.. statuses.Select(JobView.From)];
    }

    /// <summary>Jobs waiting for nodes, in the order the scheduler will serve them.</summary>
    public async Task<IReadOnlyList<QueuedJobView>> GetQueueAsync()
    {
        var now = time.GetUtcNow();
        return [.. (await Scheduler.GetQueue()).OrderBy(q => q.Position).Select(q => QueuedJobView.From(q, now))];
    }

    /// <summary>Every team with a quota or a running job.</summary>
    public async Task<IReadOnlyList<QuotaView>> GetQuotasAsync() => [.. (await Scheduler.GetQuotas()).Select(QuotaView.From)];

    /// <summary>Sets (or with null lifts) a team's node quota.</summary>
    public async Task<QuotaView> SetQuotaAsync(string team, int? maxNodes) => QuotaView.From(await Scheduler.SetQuota(team, maxNodes));

    /// <summary>How long <c>status</c> waits for the membership table before it shows the silos from their nodes.</summary>
    internal static readonly TimeSpan MembershipReadTimeout = TimeSpan.FromSeconds(5);

    public async Task<ClusterSummaryView> GetSummaryAsync()
    {
        var nodesTask = GetNodesAsync();
        var jobsTask = GetJobsAsync();
        MembershipEntry[]? hosts = null;
        string? unreadable = null;
        try
        {
            // A read of the membership table: it may be down (a storage outage) while the cluster, and the rest of this
            // summary, carry on.
            hosts = await client.GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: true).WaitAsync(MembershipReadTimeout, time);
        }
        catch (Exception e) when (e is not AccessDeniedException)
        {
            unreadable = e is TimeoutException ? $"membership table not read within {MembershipReadTimeout.TotalSeconds:F0} s" : $"membership table unreadable: {e.GetType().Name}";
        }
        var nodes = await nodesTask;
        var jobs = await jobsTask;
        var silos = hosts is null
            ? SiloView.FromNodes(nodes, unreadable!)
            : hosts
                .OrderBy(h => h.SiloName, StringComparer.Ordinal)
                .Select(h => new SiloView(h.SiloName, h.SiloAddress.Endpoint.ToString(), h.Status.ToString(), nodes.Count(n => n.Silo == h.SiloName)))
                .ToArray();
        return new ClusterSummaryView(
            silos,
            nodes.Count,
            nodes.GroupBy(n => n.State).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count()),
            nodes.Count(n => n.Cordoned),
            nodes.Count(n => n.Draining),
            nodes.Count(n => n.Straggler is not null),
            jobs.Count,
            jobs.GroupBy(j => j.State).OrderBy(g => g.Key).ToDictionary(g => g.Key.ToString(), g => g.Count()),
            [.. jobs.Where(j => !j.IsTerminal)]);
    }

    /// <summary>The job's grain, after checking that the job exists; else a <see cref="NotFoundException"/> with close matches.</summary>
    public async Task<ITrainingJobGrain> RequireJobAsync(string jobId)
    {
        var job = Job(jobId);
        if (await job.GetSpec() is not null) return job;
        var known = await Registry.GetAll();
        throw new NotFoundException("Job", jobId, CloseMatches.Find(jobId, known),
            known.Count == 0 ? "The cluster has no jobs yet: submit one with 'job submit'." : "List the jobs with 'jobs'.");
    }

    public async Task<JobDetailView> GetJobDetailAsync(string jobId)
    {
        var job = await RequireJobAsync(jobId);
        var status = await job.GetStatus();
        var spec = await job.GetSpec() ?? throw new NotFoundException("Job", jobId, []);
        var losses = await job.GetLossHistory();
        return new JobDetailView(JobView.From(status), spec, [.. status.Placement.Select(PlacementView.From)], LossSummaryView.From(losses),
            await OperatorNotesAsync(jobId, status));
    }

    /// <summary>
    /// What operators did to the job and its nodes, with why: its placement's cordoned or draining nodes, and the newest
    /// operator actions with a reason in its recorded history.
    /// </summary>
    private async Task<IReadOnlyList<string>> OperatorNotesAsync(string jobId, JobStatus status)
    {
        var mine = status.Placement.Select(p => p.NodeId).ToHashSet(StringComparer.Ordinal);
        var notes = (await Scheduler.GetNodes()).Where(n => mine.Contains(n.Capabilities.NodeId) && (n.Cordoned || n.Draining))
            .OrderBy(n => n.Capabilities.NodeId, StringComparer.Ordinal)
            .Select(n => $"node {n.Capabilities.NodeId} {(n.Draining ? "draining" : "cordoned")}{(n.Reason is null ? "" : $": {n.Reason}")}")
            .ToList();
        var history = await EventLog(jobId).GetPage(new JobEventQuery(200));
        notes.AddRange(history.Events.Where(r => r.Event.Reason is not null).TakeLast(3)
            .Select(r => $"{r.Event.At.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC {r.Event.Kind}: {r.Event.Reason}"));
        return notes;
    }

    public async Task<IReadOnlyList<CheckpointView>> GetCheckpointsAsync(string jobId)
    {
        var job = await RequireJobAsync(jobId);
        return [.. (await job.ListCheckpoints()).OrderBy(m => m.Step).Select(CheckpointView.From)];
    }

    /// <summary>Runs a scheduler action on a node; an unknown node becomes a <see cref="NotFoundException"/> with close matches.</summary>
    public async Task<NodeView> NodeActionAsync(string nodeId, Func<ISchedulerGrain, Task<NodeInfo>> action)
    {
        try
        {
            return NodeView.From(await action(Scheduler), time.GetUtcNow());
        }
        catch (NodeNotFoundException e)
        {
            throw new NotFoundException("Node", nodeId, CloseMatches.Find(nodeId, e.Known),
                e.Known.Length == 0 ? "No node has registered yet: is a silo running?" : "List the nodes with 'nodes'.");
        }
    }

    /// <summary>
    /// The nodes a target names: a node id (Single), every node of a silo of that name, or every node whose id or silo
    /// matches a pattern with * and ?; nothing matching is a <see cref="NotFoundException"/> with close matches.
    /// </summary>
    public async Task<(IReadOnlyList<string> NodeIds, bool Single)> ResolveNodesAsync(string target)
    {
        var nodes = await Scheduler.GetNodes();
        var ids = nodes.Select(n => n.Capabilities.NodeId).Order(StringComparer.Ordinal).ToArray();
        if (ids.Contains(target, StringComparer.Ordinal)) return ([target], true);
        string[] matched = Glob.HasWildcards(target)
            ? [.. nodes.Where(n => Glob.IsMatch(target, n.Capabilities.NodeId) || Glob.IsMatch(target, n.Capabilities.SiloName)).Select(n => n.Capabilities.NodeId).Order(StringComparer.Ordinal)]
            : [.. nodes.Where(n => n.Capabilities.SiloName == target).Select(n => n.Capabilities.NodeId).Order(StringComparer.Ordinal)];
        if (matched.Length > 0) return (matched, false);
        var silos = nodes.Select(n => n.Capabilities.SiloName).Distinct(StringComparer.Ordinal);
        throw new NotFoundException(Glob.HasWildcards(target) ? "No node or silo matches; pattern" : target.Contains('/') ? "Node" : "Node or silo", target, CloseMatches.Find(target, ids.Concat(silos)),
            ids.Length == 0 ? "No node has registered yet: is a silo running?" : "List the nodes with 'nodes'.");
    }

    public async Task<CheckpointView> CheckpointNowAsync(string jobId)
    {
        var job = await RequireJobAsync(jobId);
        return CheckpointView.From(await job.CheckpointNow());
    }

    /// <summary>Rewinds a job; a step with no committed checkpoint is named with the steps that have one.</summary>
    public async Task<JobView> RestoreAsync(string jobId, long step)
    {
        var job = await RequireJobAsync(jobId);
        IReadOnlyList<CheckpointManifest> manifests = await job.ListCheckpoints();
        if (!manifests.Any(m => m.Step == step))
        {
            throw new NotFoundException($"Checkpoint of job '{jobId}' at step", step.ToString(System.Globalization.CultureInfo.InvariantCulture), [],
                manifests.Count == 0 ? "The job has no committed checkpoint yet: take one with 'checkpoint create'."
                    : $"Committed checkpoints are at step{(manifests.Count == 1 ? "" : "s")} {string.Join(", ", manifests.Select(m => m.Step).Order())}.");
        }
        return JobView.From(await job.RestoreCheckpoint(step));
    }
}
