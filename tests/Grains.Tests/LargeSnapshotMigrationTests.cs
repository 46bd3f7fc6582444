using System.Security.Cryptography;
using Cluster.Grains.Checkpoints;
using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Nodes;
using Cluster.Grains.Interfaces.Scheduling;
using Cluster.Grains.Interfaces.Stages;
using Cluster.Grains.Jobs;
using Cluster.Grains.Placement;
using Cluster.Kernels.Checkpoint;
using Cluster.Kernels.Model;
using Microsoft.Extensions.DependencyInjection;

namespace Cluster.Grains.Tests;

/// <summary>
/// A snapshot holder, or a stage, that moves to another silo keeps its copies however large they are. A migration is one Orleans
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

    /// <summary>
    /// The stage's half: a stage moved off a live silo (a recovery's or a drain's re-placement) takes its own copies
    /// along — after a failure that took its holder they are the only ones. A stage configured straight from the test
    /// (rank 0: it keeps and seeds its state of step 0) is moved to the other silo and still holds that copy.
    /// </summary>
    [Fact]
    public async Task A_stage_moved_to_another_silo_keeps_its_own_copies_bit_for_bit()
    {
        string jobId = "moving-stage-" + Guid.NewGuid().ToString("N")[..8];
        var spec = TinyJob.Spec(jobId, stages: 1) with { SnapshotInterval = 1 };
        var nodes = await fixture.Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default).GetNodes();
        string node = nodes[0].Capabilities.NodeId;
        var stage = fixture.Client.GetGrain<IPipelineStageGrain>(StageKeys.Stage(jobId, 0, 0));
        RequestContext.Set(PlacementContextKeys.Node, node);
        try
        {
            await stage.Configure(new StageAssignment
            {
                Job = spec,
                Replica = 0,
                Stage = 0,
                Epoch = Epoch,
                NodeId = node,
                UnitsPerStage = [ModelLayout.UnitCount(JobSpecs.ToModelConfig(spec.Model))],
                ReplicaIds = [0],
            });
        }
        finally
        {
            RequestContext.Clear();
        }
        var before = await stage.GetSnapshotRecords();
        Assert.Equal(0, Assert.Single(before).Step);
        string expected = await WholeImageHash(stage);
        string from = fixture.HostOf(stage) ?? throw new InvalidOperationException("the stage is not active");
        Assert.Equal(NodeIds.SiloOf(node), from);
        var target = fixture.Cluster.Silos.First(s => s.Name != from);

        // As the job moves a stage: its next call names a node on the other silo, and the stage's placement follows the node.
        string there = nodes.First(n => NodeIds.SiloOf(n.Capabilities.NodeId) == target.Name).Capabilities.NodeId;
        RequestContext.Set(PlacementContextKeys.Node, there);
        try
        {
            await fixture.MoveGrainAsync(stage, target, () => stage.GetSnapshotStep());
        }
        finally
        {
            RequestContext.Clear();
        }

        Assert.Equal(before, await stage.GetSnapshotRecords());
        Assert.Equal(expected, await WholeImageHash(stage));
        foreach (var silo in fixture.Cluster.Silos)
            Assert.Equal(0, silo.SiloHost.Services.GetRequiredService<MigrationParcels>().Count);
    }

    /// <summary>SHA-256 over the stage's own copy of step 0, unit by unit.</summary>
    private static async Task<string> WholeImageHash(IPipelineStageGrain stage)
    {
        var headers = await stage.GetSnapshot(0) ?? throw new InvalidOperationException("the stage holds no copy of step 0");
        var whole = await UnitImages.FetchAsync(headers, (unit, index) => stage.GetSnapshotChunk(0, unit, index))
            ?? throw new InvalidOperationException("a chunk of the stage's copy of step 0 went missing");
        return string.Join("/", whole.Select(u => UnitImages.Bytes(u).Sha256Hex()));
    }

    /// <summary>
    /// The seam's failure: images no longer on the old silo (taken, expired, or the silo restarted) are reported, not
    /// made up — the moved grain then holds none of them, as if it had stayed on a silo that died; a silo that is gone
    /// is named.
    /// </summary>
    [Fact]
    public async Task Images_no_longer_on_the_old_silo_are_reported_and_a_gone_silo_is_named()
    {
        var headers = new[] { new[] { new UnitImage(0, "block.0", []) { SeparateChunks = 1 } } };
        string silo = fixture.Cluster.Silos[0].SiloAddress.ToParsableString();

        var gone = await Assert.ThrowsAsync<InvalidOperationException>(() => new MigratedSnapshots(silo, Guid.NewGuid(), headers).TakeAsync(fixture.Client, TimeProvider.System, CancellationToken.None));
        Assert.Contains("no longer there", gone.Message, StringComparison.Ordinal);

        string dead = Orleans.Runtime.SiloAddress.New(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 1), 1).ToParsableString();
        var noSilo = await Assert.ThrowsAnyAsync<Exception>(() => new MigratedSnapshots(dead, Guid.NewGuid(), headers).TakeAsync(fixture.Client, TimeProvider.System, CancellationToken.None));
        Assert.Contains("is not an active member", noSilo.Message, StringComparison.Ordinal);
    }
}
