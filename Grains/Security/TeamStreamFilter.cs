using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Orleans.Streams.Filtering;

namespace Cluster.Grains.Security;

/// <summary>
/// Delivers the cluster's events to a subscriber limited to teams only when they are about a job of one of its teams
/// (or about no job: node events, which every viewer may read like the node list). The silo's gate writes the teams
/// into the subscription's filter data (<see cref="Encode"/>), replacing whatever a client sent; a subscription with
/// none (a silo's, or a principal who sees every team) gets everything. Orleans delivers an item whose filter throws,
/// so nothing here throws, and an item it does not know is not delivered to a limited subscriber.
/// </summary>
internal sealed class TeamStreamFilter : IStreamFilter
{
    private const string Prefix = "cluster.teams:";

    /// <summary>The filter data of a subscription limited to <paramref name="teams"/>; null (no limit) when empty.</summary>
    public static string? Encode(IReadOnlyCollection<string> teams) =>
        teams.Count == 0 ? null : Prefix + string.Join('\n', teams);

    public bool ShouldDeliver(StreamId streamId, object item, string? filterData)
    {
        if (string.IsNullOrEmpty(filterData)) return true;
        if (!filterData.StartsWith(Prefix, StringComparison.Ordinal)) return false;
        return item switch
        {
            ClusterEvent { JobId: null } => true,
            ClusterEvent { Team: { } team } => filterData.AsSpan(Prefix.Length).ToString().Split('\n').Contains(team, StringComparer.Ordinal),
            JobProgress => true, // a job's own stream: the gate let the subscriber in only for a job of its teams
            _ => false,
        };
    }
}
