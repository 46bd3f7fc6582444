using Cluster.Grains.Interfaces.Nodes;
using Orleans.Runtime;

namespace Cluster.Grains.Scheduling;

/// <summary>Why a node takes no new stages right now, for <c>nodes</c>: the same rules placement applies.</summary>
internal sealed partial class SchedulerGrain
{
    /// <summary>
    /// Which rule of <see cref="SchedulerTable.IsPlaceable"/> keeps <paramref name="node"/> out of placement now (null: none
    /// does), with its silo's membership status or suspicion vote when that is the rule. An operator who sees a fresh
    /// node take no stage reads here whether it is waiting for its first heartbeat, for this silo's membership view to
    /// list its silo Active, or for a suspicion vote to expire.
    /// </summary>
    private string? NotPlaceable(NodeRecord node) => NotPlaceableRule()(node);

    /// <summary>
    /// <see cref="NotPlaceable"/> for many nodes at once: the suspicion votes, the placeable silos and the clock are read
    /// once, not once per node (a fleet's <c>nodes</c> lists thousands).
    /// </summary>
    private Func<NodeRecord, string?> NotPlaceableRule()
    {
        var suspected = suspects.Known;
        var placeable = PlaceableSilos(suspected);
        var now = time.GetUtcNow();
        return node => _table.WhyNotPlaceable(node, now, placeable, silo => WhySiloNotPlaceable(silo, suspected));
    }

    private string WhySiloNotPlaceable(string silo, IReadOnlyDictionary<string, DateTimeOffset> suspected)
    {
        if (suspected.TryGetValue(silo, out var votedAt))
            return $"its silo {silo} is suspected by membership (a vote at {votedAt:HH:mm:ss}); placeable again once the vote expires";
        var member = membership.CurrentSnapshot.Members.Values.Where(m => m.Name == silo).MaxBy(m => m.SiloAddress.Generation);
        return member is null
            ? $"its silo {silo} is not yet in the scheduler's membership view"
            : $"its silo {silo} is {member.Status} in the scheduler's membership view (placement needs Active)";
    }
}
