namespace Cluster.Grains.Interfaces.Checkpoints;

/// <summary>
/// A parcel of snapshot copies a holder left on a silo when it migrated (<see cref="IMigrationParcelGrain.FindLeftFor"/>),
/// which its new activation never took: its id there, the records of its snapshots, and a header per unit (index, name,
/// chunk count) to take their chunks by. <see cref="StillAwaited"/>: the parcel is another grain's — a stage's, whose
/// first snapshot holder the asker is — whose new activation may still come for it: copy it, and leave it there.
/// </summary>
[GenerateSerializer, Immutable, Alias("cluster.LeftParcel")]
public sealed record LeftParcel(
    [property: Id(0)] Guid Parcel,
    [property: Id(1)] SnapshotRecord[] Records,
    [property: Id(2)] UnitImage[][] Headers)
{
    [Id(3)]
    public bool StillAwaited { get; init; }
}
