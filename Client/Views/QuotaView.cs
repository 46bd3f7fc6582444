using Cluster.Grains.Interfaces.Scheduling;

namespace Cluster.Client.Views;

/// <summary>A team's node quota (null: none) and what its running jobs hold now.</summary>
internal sealed record QuotaView(string Team, int? MaxNodes, int NodesInUse, int RunningJobs)
{
    public static QuotaView From(TeamQuota q) => new(q.Team, q.MaxNodes, q.NodesInUse, q.RunningJobs);
}
