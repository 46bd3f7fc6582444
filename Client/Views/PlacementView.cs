using Cluster.Grains.Interfaces.Jobs;

namespace Cluster.Client.Views;

/// <summary>Where one stage of a job runs.</summary>
internal sealed record PlacementView(int Stage, string NodeId, string Silo, int FirstUnit, int UnitCount, string Units)
{
    public static PlacementView From(StagePlacement p) => new(p.Stage, p.NodeId, p.SiloName, p.FirstUnit, p.UnitCount, p.Units);
}
