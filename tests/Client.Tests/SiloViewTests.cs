using Cluster.Client.Views;

namespace Cluster.Client.Tests;

/// <summary><c>status</c> through a membership-table outage: the silos come from their nodes, each saying why.</summary>
public sealed class SiloViewTests
{
    [Fact]
    public void Without_the_membership_table_the_silos_are_those_the_nodes_name_with_their_node_counts()
    {
        NodeView Node(string id, string silo) => new(id, silo, "cpu", "Ready", null, null, null, 1, 1, null, null, false, false, false, null, 0, null, []);
        var silos = SiloView.FromNodes([Node("b/cpu0", "b"), Node("a/cpu0", "a"), Node("a/cpu1", "a")], "membership table unreadable: TimeoutException");

        Assert.Equal(["a", "b"], silos.Select(s => s.Name));
        Assert.Equal([2, 1], silos.Select(s => s.Nodes));
        Assert.All(silos, s => Assert.Equal("unknown (membership table unreadable: TimeoutException)", s.Status));
    }
}
