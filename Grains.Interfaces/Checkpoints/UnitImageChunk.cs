namespace Cluster.Grains.Interfaces.Checkpoints;

/// <summary>
/// One chunk of a unit's image sent by a call of its own (<see cref="ICheckpointShardGrain.AcceptChunk"/>): chunk
/// <see cref="Index"/> (1 is the one after <see cref="UnitImage.Image"/>) of unit <see cref="UnitIndex"/>. Immutable, so
/// a call inside one silo passes it without a copy.
/// </summary>
[GenerateSerializer, Immutable, Alias("cluster.UnitImageChunk")]
public sealed record UnitImageChunk(
    [property: Id(0)] int UnitIndex,
    [property: Id(1)] int Index,
    [property: Id(2)] byte[] Data);
