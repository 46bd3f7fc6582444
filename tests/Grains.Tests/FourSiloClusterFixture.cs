namespace Cluster.Grains.Tests;

/// <summary>A cluster of its own for tests that stop silos: 4 silos × 2 slots.</summary>
public sealed class FourSiloClusterFixture() : ClusterFixture(4);
