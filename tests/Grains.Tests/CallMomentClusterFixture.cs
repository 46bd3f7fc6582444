namespace Cluster.Grains.Tests;

/// <summary>
/// Four silos of their own (a test that loses a silo starts another in its place), each with the
/// <see cref="CallMomentTrap"/> that holds back the call of the moment a test arms, and a <see cref="HeldCall"/> that
/// holds any one call a test picks before it is sent.
/// </summary>
public class CallMomentClusterFixture() : ClusterFixture(4)
{
    public CallMomentTrap Trap { get; } = new();

    public HeldCall Held { get; } = new();

    protected override ISiloBuilder ConfigureSilo(ISiloBuilder silo) => silo.AddIncomingGrainCallFilter(Trap).AddOutgoingGrainCallFilter(Held);
}
