using Cluster.Grains.Interfaces.Security;

namespace Cluster.Grains.Security;

/// <summary>
/// The rules: a role includes the ones below it; a principal limited to teams reads and acts on jobs of those teams
/// only (another team's job is refused, naming its team — the same answer for every read and action), reads the fleet
/// (nodes, queue) with other teams' jobs left out (<see cref="TeamScopedReads"/>), and may not act on the fleet; an
/// admin may do everything.
/// </summary>
public static class AccessPolicy
{
    /// <summary>Null when <paramref name="principal"/> may make the call, else why not (a sentence naming the fix).</summary>
    /// <param name="call">Interface and method, for the message.</param>
    /// <param name="jobTeams">The teams of the job(s) the call acts on (<see cref="OperatorScope.Job"/>).</param>
    public static string? Refusal(CallerPrincipal principal, OperatorFacingAttribute required, string call, IReadOnlyCollection<string> jobTeams)
    {
        if (principal.Role < required.Role)
            return $"{principal} may not call {call}: it needs the {Name(required.Role)} role. Ask an admin to map your certificate to that role (Authorization:Principals).";
        if (principal.Role == OperatorRole.Admin || principal.Teams.Count == 0)
            return null;
        if (required.Scope == OperatorScope.Fleet)
            return required.Role == OperatorRole.Viewer ? null : $"{principal} may not call {call}: it acts on the whole fleet, and your role is limited to teams. Ask an operator of every team or an admin.";
        var foreign = jobTeams.Where(t => !principal.Teams.Contains(t, StringComparer.Ordinal)).Distinct(StringComparer.Ordinal).ToList();
        return foreign.Count == 0
            ? null
            : $"{principal} may not call {call} on a job of team {string.Join(", ", foreign)}: your role covers team {string.Join(", ", principal.Teams)} only.";
    }

    private static string Name(OperatorRole role) => role.ToString().ToLowerInvariant();
}
