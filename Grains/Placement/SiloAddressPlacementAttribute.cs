using Orleans.Placement;

namespace Cluster.Grains.Placement;

/// <summary>Marks a grain class as <see cref="SiloAddressPlacement"/>: keyed by the address of the silo it lives on.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class SiloAddressPlacementAttribute() : PlacementAttribute(SiloAddressPlacement.Singleton);
