using Cluster.Grains.Interfaces.Jobs;

namespace Cluster.Client.Views;

/// <summary>Where one stage of one data-parallel replica of a job runs (<see cref="Replica"/> is 0 for a job of one replica).</summary>
internal sealed record PlacementView(int Stage, string NodeId, string Silo, int FirstUnit, int UnitCount, string Units, int Replica)
{
    public static PlacementView From(StagePlacement p) => new(p.Stage, p.NodeId, p.SiloName, p.FirstUnit, p.UnitCount, p.Units, p.Replica);
}
