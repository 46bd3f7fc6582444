using Cluster.Grains.Security;
using Cluster.Grains.Tests;

namespace Cluster.Client.Tests;

/// <summary>
/// The grain tests' in-memory cluster (2 CPU slots per silo, fast heartbeats) with 2 silos, for the console's commands;
/// with the silos' client gate, so that every command is checked to use only operator-facing methods.
/// </summary>
public sealed class ConsoleClusterFixture() : ClusterFixture(2)
{
    protected override ISiloBuilder ConfigureSilo(ISiloBuilder silo) => silo.AddOperatorSurface();
}
