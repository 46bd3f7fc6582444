using Orleans.Placement;
using Orleans.Runtime;

namespace Cluster.Grains.Placement;

/// <summary>Activates a grain on the silo whose address (<c>SiloAddress.ToParsableString()</c>) is its key, and nowhere else.</summary>
[GenerateSerializer, Immutable]
public sealed class SiloAddressPlacement : PlacementStrategy
{
    internal static readonly SiloAddressPlacement Singleton = new();
}
