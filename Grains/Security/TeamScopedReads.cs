using Cluster.Grains.Hosting;
using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Nodes;
using Cluster.Grains.Interfaces.Scheduling;
using Cluster.Grains.Interfaces.Security;

namespace Cluster.Grains.Security;

/// <summary>
/// Limits what a principal scoped to teams (a viewer or operator with <c>Teams</c>) reads to its teams' jobs. A read of
/// one job (status, spec, losses, timings, checkpoints, placement: <see cref="OperatorScope.Job"/>) of another team is
/// refused by <see cref="AccessPolicy"/>, naming that team; here: live subscriptions (the event stream is filtered by
/// <see cref="TeamStreamFilter"/>; a job's progress stream is open only for a job of its teams), recorded histories
/// (another team's job history is refused; events of other teams' jobs are left out of every page, the cluster's node
/// history included), and fleet reads, which leave other teams' jobs out: the job registry's lists, the scheduler's
/// queue and the stages each node runs. Admins and principals without teams read everything, as the local user without
/// TLS does. Invariant: no operator read returns the id or data of a job whose team is not the principal's, except
/// messages written by the cluster (a node event, a node's reason) that name it.
/// </summary>
internal static class TeamScopedReads
{
    private const string RegisterConsumer = "RegisterConsumer";

    /// <summary>The teams <paramref name="principal"/>'s event reads are limited to; empty: every team.</summary>
    public static IReadOnlyList<string> Limit(CallerPrincipal principal) => principal.Role == OperatorRole.Admin ? [] : principal.Teams;

    /// <summary>
    /// Before a client's call runs: a subscription gets the principal's teams as its filter data (whatever the client
    /// sent); returns why the call is refused (another team's job), or null.
    /// </summary>
    public static async Task<string?> Before(IIncomingGrainCallContext context, CallerPrincipal principal, IGrainFactory? grains, string call)
    {
        var limit = Limit(principal);
        var method = context.InterfaceMethod;
        if (method.DeclaringType?.FullName == OrleansClientSurface.PubSubInterface && method.Name == RegisterConsumer)
        {
            StreamId? stream = null;
            var parameters = method.GetParameters();
            for (int i = 0; i < parameters.Length && i < context.Request.GetArgumentCount(); i++)
            {
                if (parameters[i].Name == "filterData" && parameters[i].ParameterType == typeof(string))
                    context.Request.SetArgument(i, TeamStreamFilter.Encode(limit)!); // null: no limit (Orleans reads it as none)
                else if (context.Request.GetArgument(i) is QualifiedStreamId qualified)
                    stream = qualified.StreamId;
            }
            if (limit.Count == 0 || stream is not { } id || id.GetNamespace() != JobStreams.ProgressNamespace) return null;
            return await ForeignJob(grains, id.GetKeyAsString() ?? "", principal, call, limit, refuseUnknown: true);
        }
        if (limit.Count > 0 && method.DeclaringType == typeof(IJobEventLogGrain) && method.Name == nameof(IJobEventLogGrain.GetPage)
            && context.TargetId.Key.ToString() is var log && log != EventLogKeys.Cluster)
            return await ForeignJob(grains, log, principal, call, limit, refuseUnknown: false);
        return null;
    }

    /// <summary>
    /// After a client's call: a page of recorded events, the job registry's lists, the scheduler's queue and its nodes'
    /// stages keep only what the principal may read. Results are plain arrays: Orleans copies a result, and has no copier
    /// for the compiler's own collection-expression types.
    /// </summary>
    public static async Task After(IIncomingGrainCallContext context, CallerPrincipal principal, IGrainFactory? grains)
    {
        var limit = Limit(principal);
        if (limit.Count == 0) return;
        switch (context.Result)
        {
            case JobEventPage page:
                context.Result = page with { Events = [.. page.Events.Where(r => Visible(r.Event, limit))] };
                break;
            case IReadOnlyList<string> jobIds when context.Grain is IJobRegistryGrain:
                context.Result = await OfTeams(jobIds, grains, limit);
                break;
            case IReadOnlyList<QueuedJob> queue:
                context.Result = queue.Where(q => limit.Contains(q.Ticket.Team, StringComparer.Ordinal)).ToArray();
                break;
            case IReadOnlyList<NodeInfo> nodes when context.Grain is IKnowJobTeams known:
                context.Result = nodes.Select(n => n with { Stages = n.Stages.Where(stage => OfTeams(JobOfStage(stage), known, limit)).ToArray() }).ToArray();
                break;
        }
    }

    /// <summary>
    /// The ids of jobs of <paramref name="limit"/>'s teams, in order: each job's team is read from its spec (the
    /// registry keeps ids only); a job without one (deleted meanwhile) is left out. Runs in the registry's turn; the job
    /// grains are reentrant and never wait for the registry while serving <c>GetSpec</c>.
    /// </summary>
    private static async Task<IReadOnlyList<string>> OfTeams(IReadOnlyList<string> jobIds, IGrainFactory? grains, IReadOnlyList<string> limit)
    {
        if (grains is null) return [];
        var specs = await Task.WhenAll(jobIds.Select(id => grains.GetGrain<ITrainingJobGrain>(id).GetSpec()));
        return jobIds.Where((_, i) => specs[i] is { } spec && limit.Contains(spec.Team, StringComparer.Ordinal)).ToArray();
    }

    /// <summary>A node's stage label is "&lt;job id&gt;/&lt;stage&gt;" (job ids hold no '/').</summary>
    private static string JobOfStage(string stage) => stage[..Math.Max(0, stage.IndexOf('/', StringComparison.Ordinal))];

    private static bool OfTeams(string jobId, IKnowJobTeams known, IReadOnlyList<string> limit) =>
        known.TeamOf(jobId) is { } team && limit.Contains(team, StringComparer.Ordinal);

    /// <summary>Whether a principal limited to <paramref name="teams"/> may read <paramref name="e"/>: an event with no job, or of a job of its teams.</summary>
    public static bool Visible(ClusterEvent e, IReadOnlyCollection<string> teams) =>
        e.JobId is null || (e.Team is { } team && teams.Contains(team, StringComparer.Ordinal));

    /// <summary>
    /// Why the principal may not read <paramref name="jobId"/>'s events (its team is another), or null. A job that does
    /// not exist (now) is refused when <paramref name="refuseUnknown"/> (a live stream: another team could submit it
    /// later); a deleted job's kept history is not, as its pages keep only events of the principal's teams.
    /// </summary>
    private static async Task<string?> ForeignJob(IGrainFactory? grains, string jobId, CallerPrincipal principal, string call, IReadOnlyList<string> limit,
        bool refuseUnknown)
    {
        if (grains is null) return $"{call} refused: this silo cannot look up the team of job {jobId}, and your role covers team {string.Join(", ", limit)} only.";
        var spec = await grains.GetGrain<ITrainingJobGrain>(jobId).GetSpec();
        if (spec is null)
            return refuseUnknown ? $"{principal} may not call {call} for job {jobId}: no such job, and your role covers team {string.Join(", ", limit)} only." : null;
        return limit.Contains(spec.Team, StringComparer.Ordinal)
            ? null
            : $"{principal} may not call {call} for job {jobId} of team {spec.Team}: your role covers team {string.Join(", ", limit)} only. Ask an admin or a principal of that team.";
    }
}
