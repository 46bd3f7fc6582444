using Cluster.Grains.Tests;

namespace Cluster.Client.Tests;

/// <summary>The grain tests' in-memory cluster (2 CPU slots per silo, fast heartbeats) with 2 silos, for the console's commands.</summary>
public sealed class ConsoleClusterFixture() : ClusterFixture(2);
