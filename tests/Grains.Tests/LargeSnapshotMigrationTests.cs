using System.Security.Cryptography;
using Cluster.Grains.Checkpoints;
using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Placement;
using Cluster.Kernels.Checkpoint;
using Microsoft.Extensions.DependencyInjection;

namespace Cluster.Grains.Tests;

/// <summary>
/// A snapshot holder that moves to another silo keeps its copies however large they are. A migration is one Orleans
/// message (at most 100 MiB by default): carried in it, a copy over that failed the migration, and Orleans then
/// deactivated the holder anyway — its copies gone, one of the two the redundancy invariant counts. The images now stay
/// on the old silo and the moved holder takes them a chunk per call. Runs alone: it holds ≈ 0.5 GiB at its peak.
/// </summary>
[Collection(nameof(LargeUnitSnapshots))]
public sealed class LargeSnapshotMigrationTests(LargeSnapshotMigrationTests.Fixture fixture) : IClassFixture<LargeSnapshotMigrationTests.Fixture>
{
    /// <summary>Two silos: the holder moves from one to the other.</summary>
    public sealed class Fixture() : ClusterFixture(2);

    private const long Epoch = 1;
    private const long Step = 5;
    private const int ChunkBytes = 40 << 20;

    [Fact]
    public async Task A_holder_moved_with_120_MiB_of_copies_keeps_them_bit_for_bit_and_its_old_silo_frees_them()
    {
        string jobId = "moving-holder-" + Guid.NewGuid().ToString("N")[..8];
        var holder = fixture.Client.GetGrain<ICheckpointShardGrain>(SnapshotHolders.Key(jobId, 0, 0));
        // One unit's image of 3 chunks × 40 MiB: each chunk crosses as one call, the whole is over one message's limit.
        var random = new Random(11);
        var chunks = new byte[3][];
        for (int i = 0; i < chunks.Length; i++)
        {
            chunks[i] = new byte[ChunkBytes];
            random.NextBytes(chunks[i]);
        }
        string expected = new ChunkedBytes(chunks).Sha256Hex();
        for (int i = 1; i < chunks.Length; i++)
            await holder.AcceptChunk(Epoch, Step, new UnitImageChunk(0, i, chunks[i]));
        await holder.Accept(Epoch, Step, 0, [new UnitImage(0, "block.0", chunks[0]) { SeparateChunks = chunks.Length - 1 }], durable: false, stepLoss: 2.5);
        string from = fixture.HostOf(holder) ?? throw new InvalidOperationException("the holder is not active");
        var target = fixture.Cluster.Silos.First(s => s.Name != from);

        await fixture.MoveGrainAsync(holder, target, () => holder.GetLatestStep());

        long[] steps = await holder.GetSnapshotSteps();
        Assert.Equal([Step], steps);
        var record = Assert.Single(await holder.GetSnapshotRecords());
        Assert.Equal(new SnapshotRecord(Step, Epoch, 2.5), record);
        var header = Assert.Single(Assert.IsAssignableFrom<IReadOnlyList<UnitImage>>(await holder.GetSnapshot(Step)));
        var whole = await UnitImages.FetchAsync([header], (unit, index) => holder.GetSnapshotChunk(Step, unit, index));
        Assert.NotNull(whole);
        Assert.Equal(expected, UnitImages.Bytes(Assert.Single(whole)).Sha256Hex());
        foreach (var silo in fixture.Cluster.Silos)
            Assert.Equal(0, silo.SiloHost.Services.GetRequiredService<MigrationParcels>().Count);
    }
}
