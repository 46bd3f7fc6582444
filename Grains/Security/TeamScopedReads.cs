using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Security;

namespace Cluster.Grains.Security;

/// <summary>
/// Limits what a principal scoped to teams (a viewer or operator with <c>Teams</c>) reads of the cluster's events to
/// its teams' jobs: live subscriptions (the event stream is filtered by <see cref="TeamStreamFilter"/>; a job's progress
/// stream is open only for a job of its teams) and recorded histories (another team's job history is refused; events of
/// other teams' jobs are left out of every page, the cluster's node history included). Admins and principals without
/// teams read everything, as the local user without TLS does.
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

    /// <summary>After a client's call: a page of recorded events keeps only what the principal may read.</summary>
    public static void After(IIncomingGrainCallContext context, CallerPrincipal principal)
    {
        var limit = Limit(principal);
        if (limit.Count == 0 || context.Result is not JobEventPage page) return;
        context.Result = page with { Events = [.. page.Events.Where(r => Visible(r.Event, limit))] };
    }

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
