namespace Cluster.Grains.Tests;

/// <summary>
/// Four silos of their own (a test that loses a silo starts another in its place), each with the
/// <see cref="CallMomentTrap"/> that holds back the call of the moment a test arms.
/// </summary>
public class CallMomentClusterFixture() : ClusterFixture(4)
{
    public CallMomentTrap Trap { get; } = new();

    protected override ISiloBuilder ConfigureSilo(ISiloBuilder silo) => silo.AddIncomingGrainCallFilter(Trap);
}
