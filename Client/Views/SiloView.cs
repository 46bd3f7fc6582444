namespace Cluster.Client.Views;

/// <summary>One silo of the cluster's membership.</summary>
internal sealed record SiloView(string Name, string Address, string Status, int Nodes)
{
    /// <summary>
    /// The silos when the membership table cannot be read (a storage outage): those the nodes name, each with what is
    /// known — its nodes — and a status that says why the rest is not. The nodes come from the scheduler, which keeps
    /// answering through such an outage, so <c>status</c> does too.
    /// </summary>
    public static SiloView[] FromNodes(IEnumerable<NodeView> nodes, string why) =>
    [
        .. nodes.GroupBy(n => n.Silo, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new SiloView(g.Key, "?", $"unknown ({why})", g.Count())),
    ];
}
