using Cluster.Grains.Security;

namespace Cluster.Grains.Tests;

/// <summary>One silo with the client gate as a silo without TLS has it: clients reach only operator-facing methods.</summary>
public sealed class OperatorSurfaceClusterFixture : ClusterFixture
{
    public OperatorSurfaceClusterFixture()
        : base(1)
    {
    }

    protected override ISiloBuilder ConfigureSilo(ISiloBuilder silo) => silo.AddOperatorSurface();
}
