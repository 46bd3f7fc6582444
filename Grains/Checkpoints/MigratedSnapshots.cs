using Cluster.Grains.Interfaces.Checkpoints;

namespace Cluster.Grains.Checkpoints;

/// <summary>
/// Snapshot images a grain carries across a migration without putting them in its migration context: a migration is
/// one Orleans message, which must stay under <c>MaxMessageBodySize</c> (100 MiB by default) or the migration fails —
/// and Orleans then deactivates the grain anyway, dropping its copies. So <see cref="Leave"/> keeps the images on the
/// old silo (<see cref="MigrationParcels"/>) and the context carries only where they wait and their shape (a header per
/// unit: index, name, chunk count); the new activation takes them a chunk per call (<see cref="TakeAsync"/>), before it
/// serves any call. Invariant: a migration keeps a grain's copies whatever their size, unless the old silo dies before
/// the new activation has taken them — then they are lost as they would have been had the grain stayed there. A new
/// activation that never comes, or fails its take, leaves the parcel waiting; a holder's parcel also carries its
/// snapshots' records, so the holder's next activation takes it over (<c>CheckpointShardGrain.TakeParcelLeftBehind</c>). A take
/// that hangs (the old silo frozen, or cut off one way) gives up after <see cref="ChunkTimeout"/> per chunk and counts
/// as such a loss, so a moved grain serves again within seconds instead of after the calls waiting on it time out.
/// </summary>
internal sealed record MigratedSnapshots(string Silo, Guid Parcel, UnitImage[][] Headers)
{
    /// <summary>
    /// How long one chunk (at most <see cref="Kernels.Checkpoint.ChunkedBytes.DefaultChunkBytes"/>, 64 MiB) may take to
    /// come: ≥ 6.4 MB/s, which any link between silos carries; well under the 30 s a caller of the moving grain waits
    /// for an answer by default (a take that took longer made the job's call to a moved stage time out, and the job
    /// recovered: measured, a hung take stalled a job ≈ 50 s).
    /// </summary>
    public static readonly TimeSpan ChunkTimeout = TimeSpan.FromSeconds(10);

    private const string SiloKey = "parcel-silo";
    private const string ParcelKey = "parcel-id";
    private const string HeadersKey = "parcel-units";

    /// <summary>
    /// Leaves <paramref name="snapshots"/> (whole images) on this silo, records in the context, under
    /// <paramref name="prefix"/>, where they wait (this silo, <paramref name="grain"/>'s), and ends the departure of
    /// <paramref name="grain"/> (the grain dehydrating, <see cref="MigrationParcels.Departing"/>): from here its parcel — or, with no copies, nothing — is
    /// what a graceful shutdown waits for. The parcel keeps <paramref name="records"/> and names <paramref name="heir"/>
    /// (see <see cref="MigrationParcels.Post"/>).
    /// </summary>
    public static void Leave(IDehydrationContext context, string prefix, MigrationParcels parcels, IGrainContext grain, IReadOnlyList<IReadOnlyList<UnitImage>> snapshots,
        IReadOnlyList<SnapshotRecord>? records = null, string? heir = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(parcels);
        ArgumentNullException.ThrowIfNull(grain);
        ArgumentNullException.ThrowIfNull(snapshots);
        try
        {
            if (snapshots.Count > 0) Record(context, prefix, parcels, grain, snapshots, records, heir);
        }
        finally
        {
            parcels.Departed(grain.GrainId.ToString());
        }
    }

    private static void Record(IDehydrationContext context, string prefix, MigrationParcels parcels, IGrainContext grain, IReadOnlyList<IReadOnlyList<UnitImage>> snapshots,
        IReadOnlyList<SnapshotRecord>? records, string? heir)
    {
        context.TryAddValue(prefix + SiloKey, grain.Address.SiloAddress!.ToParsableString());
        context.TryAddValue(prefix + ParcelKey, parcels.Post(snapshots, grain.GrainId.ToString(), records, heir)); // headed where the grain's migration is
        context.TryAddValue(prefix + HeadersKey, snapshots.Select(units => units.Select(Header).ToArray()).ToArray());
    }

    /// <summary>A unit's header in a parcel: its index, name and how many chunks to take (the first one included).</summary>
    public static UnitImage Header(UnitImage whole) => new(whole.UnitIndex, whole.UnitName, [])
    {
        SeparateChunks = 1 + whole.MoreChunksOrNone.Length,
    };

    /// <summary>What <see cref="Leave"/> recorded under <paramref name="prefix"/>; null when nothing was left.</summary>
    public static MigratedSnapshots? Find(IRehydrationContext context, string prefix)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.TryGetValue(prefix + SiloKey, out string? silo) && silo is not null
            && context.TryGetValue(prefix + ParcelKey, out Guid parcel)
            && context.TryGetValue(prefix + HeadersKey, out UnitImage[][]? headers) && headers is not null
            ? new MigratedSnapshots(silo, parcel, headers)
            : null;
    }

    /// <summary>
    /// The whole images, snapshot by snapshot, taken from the old silo a chunk per call, then freed there (unless not
    /// <paramref name="drop"/>: a copy of a parcel another activation may still take); an error
    /// (<see cref="InvalidOperationException"/> when the parcel is gone, <see cref="TimeoutException"/> when a chunk took
    /// longer than <see cref="ChunkTimeout"/> on <paramref name="time"/>, or the call's own) when they cannot be had.
    /// </summary>
    public async Task<UnitImage[][]> TakeAsync(IGrainFactory grains, TimeProvider time, CancellationToken cancellationToken, bool drop = true)
    {
        ArgumentNullException.ThrowIfNull(grains);
        ArgumentNullException.ThrowIfNull(time);
        var from = grains.GetGrain<IMigrationParcelGrain>(Silo);
        var taken = new UnitImage[Headers.Length][];
        for (int s = 0; s < Headers.Length; s++)
        {
            taken[s] = new UnitImage[Headers[s].Length];
            for (int u = 0; u < Headers[s].Length; u++)
            {
                var header = Headers[s][u];
                var chunks = new byte[header.SeparateChunks][];
                for (int i = 0; i < chunks.Length; i++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    chunks[i] = await from.TakeChunk(Parcel, s, header.UnitIndex, i).WaitAsync(ChunkTimeout, time, cancellationToken)
                        ?? throw new InvalidOperationException($"The snapshot images left on silo {Silo} (parcel {Parcel}) are no longer there: taken, expired, or the silo restarted.");
                }
                taken[s][u] = new UnitImage(header.UnitIndex, header.UnitName, chunks.Length > 0 ? chunks[0] : []) { MoreChunks = chunks.Length > 1 ? chunks[1..] : [] };
            }
        }
        if (drop) await from.Drop(Parcel);
        return taken;
    }
}
