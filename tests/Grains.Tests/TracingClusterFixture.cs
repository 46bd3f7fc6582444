namespace Cluster.Grains.Tests;

/// <summary>
/// The 3-silo cluster with Orleans' activity propagation on (as a silo with an OTLP endpoint runs), so a span started
/// in one grain is the parent of the spans of the grain calls it makes; and the short hung-device floor of
/// <see cref="HungDeviceClusterFixture"/>, so a recovery can be caused without losing a silo.
/// </summary>
public sealed class TracingClusterFixture : ClusterFixture
{
    protected override ISiloBuilder ConfigureSilo(ISiloBuilder silo) => HungDeviceClusterFixture.WithShortHangFloor(silo.AddActivityPropagation());
}
