using Cluster.Grains.Security;

namespace Cluster.Grains.Tests;

/// <summary>
/// One silo with the client gate as a silo without TLS has it: clients reach only operator-facing methods; the silo's
/// own calls carry the silos' stamp (Authorization:SiloSecret).
/// </summary>
public sealed class OperatorSurfaceClusterFixture : ClusterFixture
{
    public OperatorSurfaceClusterFixture()
        : base(1)
    {
    }

    protected override ISiloBuilder ConfigureSilo(ISiloBuilder silo) => silo.AddOperatorSurface(_siloProof);

    private readonly SiloCallProof _siloProof = new("operator-surface-fixture-secret-0123456789", TimeSpan.FromMinutes(5), TimeProvider.System);
}
