namespace Cluster.Grains.Tests;

/// <summary>One silo (two nodes) to start with; tests add silos to watch a job scale up.</summary>
public sealed class OneSiloClusterFixture : ClusterFixture
{
    public OneSiloClusterFixture()
        : base(1)
    {
    }
}
