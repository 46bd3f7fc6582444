namespace Cluster.Grains.Interfaces.Checkpoints;

/// <summary>
/// The snapshot images that grains migrating off one silo left there for their new activations (key: that silo's
/// address, <c>SiloAddress.ToParsableString()</c>; activated on that silo only). A migration is one Orleans message,
/// under <c>MaxMessageBodySize</c> (100 MiB by default) — a stage's state is often gigabytes — so the images stay
/// behind and the new activation takes them a chunk per call. Silo-internal: no client reaches it.
/// </summary>
[Alias("cluster.IMigrationParcelGrain")]
public interface IMigrationParcelGrain : IGrainWithStringKey
{
    /// <summary>
    /// Chunk <paramref name="index"/> (0 = the first) of unit <paramref name="unitIndex"/> of snapshot
    /// <paramref name="snapshot"/> in parcel <paramref name="parcel"/>; null when the parcel is no longer here (taken,
    /// expired, or left on a silo that has restarted since).
    /// </summary>
    [Alias("TakeChunk")]
    Task<byte[]?> TakeChunk(Guid parcel, int snapshot, int unitIndex, int index);

    /// <summary>Frees the parcel (every chunk taken, or given up).</summary>
    [Alias("Drop")]
    Task Drop(Guid parcel);

    /// <summary>
    /// The newest parcel of snapshot copies grain <paramref name="grainId"/> (its <c>GrainId.ToString()</c>) left here
    /// with their records, that no activation of it has taken — or that a stage left naming it heir (its first snapshot
    /// holder); null when there is none. For a holder whose new activation never came (it failed to register, or died
    /// without its silo) and was re-created empty elsewhere, or whose stage's move failed with the holder's copies lost.
    /// </summary>
    [Alias("FindLeftFor")]
    Task<LeftParcel?> FindLeftFor(string grainId);
}
