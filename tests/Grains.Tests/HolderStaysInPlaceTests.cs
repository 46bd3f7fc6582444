using Microsoft.Extensions.DependencyInjection;
using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Stages;
using Cluster.Grains.Placement;

namespace Cluster.Grains.Tests;

/// <summary>
/// <c>ElsewhereMigration</c>'s invariant: a snapshot holder asked to make room for its moving stage, whose placement
/// then keeps it on the silo it is on, stays there with its copies and says it did not move. Orleans, left to place it
/// during its deactivation, would have deactivated it without dehydrating it: its copies gone, and the job told it had
/// moved off the silo its stage was about to take ("moved off … before its stage moves there", seen in
/// <c>MigrationTakeKillTests</c> batches).
/// </summary>
public sealed class HolderStaysInPlaceTests(StayInPlaceClusterFixture fixture) : IClassFixture<StayInPlaceClusterFixture>
{
    private static readonly UnitImage s_unit = new(0, "embed", [1, 2, 3, 4]);

    [Fact]
    public async Task A_holder_whose_placement_keeps_it_where_it_is_stays_with_its_copies_and_says_it_did_not_move()
    {
        // Called from a silo: clients may not call a holder.
        var grains = fixture.Cluster.Silos[0].ServiceProvider.GetRequiredService<IGrainFactory>();
        var holder = grains.GetGrain<ICheckpointShardGrain>(StageKeys.Shard("stays-in-place", 0));
        await holder.Accept(1, 5, 0, [s_unit], durable: false);
        string here = fixture.HostOf(holder) ?? throw new InvalidOperationException("the holder has no activation after a copy reached it");

        StayInPlaceDirector.Arm(holder.GetGrainId());
        try
        {
            Assert.Null(await MakeRoom(holder, here)); // "moved": the job would move the stage onto the holder's silo
            long[] kept = await holder.GetSnapshotSteps();
            Assert.Equal([5L], kept);
            Assert.Equal(here, fixture.HostOf(holder));
        }
        finally
        {
            StayInPlaceDirector.Disarm(holder.GetGrainId());
        }

        // Once a placement may choose another silo, it moves there with its copies.
        long[]? carried = await MakeRoom(holder, here);
        Assert.Equal([5L], carried ?? []);
        var steps = await Eventually.Value(holder.GetSnapshotSteps, s => s.Length > 0 && fixture.HostOf(holder) is { } now && now != here,
            TimeSpan.FromMinutes(1), $"the holder to answer from a silo other than {here}");
        Assert.Equal([5L], steps);
    }

    /// <summary>Asks <paramref name="holder"/> to make room on <paramref name="stageSilo"/>, with the hint the job gives.</summary>
    private static async Task<long[]?> MakeRoom(ICheckpointShardGrain holder, string stageSilo)
    {
        RequestContext.Set(PlacementContextKeys.AvoidSilo, stageSilo);
        try
        {
            return await holder.MakeRoom(1, stageSilo);
        }
        finally
        {
            RequestContext.Remove(PlacementContextKeys.AvoidSilo);
        }
    }
}
