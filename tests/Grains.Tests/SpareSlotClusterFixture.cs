namespace Cluster.Grains.Tests;

/// <summary>
/// One silo with three device slots — a job of two replicas and a spare slot, so a stage moved off a hung device stays
/// in the same activation on the same silo — with a short device-hang floor and the two <see cref="HeldCall"/>s a test
/// arms for calls the stages make.
/// </summary>
public sealed class SpareSlotClusterFixture() : ClusterFixture(1, 3)
{
    /// <summary>Holds a call before it is sent.</summary>
    public HeldCall First { get; } = new();

    /// <summary>Holds a second call while <see cref="First"/> holds another.</summary>
    public HeldCall Second { get; } = new();

    protected override ISiloBuilder ConfigureSilo(ISiloBuilder silo) =>
        HungDeviceClusterFixture.WithShortHangFloor(silo).AddOutgoingGrainCallFilter(First).AddOutgoingGrainCallFilter(Second);
}
