using Microsoft.Extensions.DependencyInjection;
using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Stages;

namespace Cluster.Grains.Tests;

/// <summary>
/// <c>ElsewhereMigration</c>'s invariant on a silo's graceful stop: a holder asked to leave whose placement keeps it on
/// the leaving silo says it stays — so the stop, which waits for the parcels of the holders that left, does not wait
/// for one that never comes. Left to Orleans, the holder "left" (the stop counted it moved), was deactivated without
/// dehydrating, and the stop waited out its whole evacuation timeout for a parcel nobody posted.
/// </summary>
public sealed class StaysInPlaceLeaveTests(StayInPlaceClusterFixture fixture) : IClassFixture<StayInPlaceClusterFixture>
{
    [Fact]
    public async Task A_holder_on_a_leaving_silo_whose_placement_keeps_it_there_says_it_stays_and_the_stop_does_not_wait_for_it()
    {
        var grains = fixture.Cluster.Silos[0].ServiceProvider.GetRequiredService<IGrainFactory>();
        var holder = grains.GetGrain<ICheckpointShardGrain>(StageKeys.Shard("stays-in-place-leave", 0));
        // Its stage "on" the first silo (the cluster's primary, which must stay): the holder is placed on another.
        await StaysInPlaceTests.AcceptFromStageOn(holder, 5, fixture.Cluster.Silos[0].Name);
        string here = fixture.HostOf(holder) ?? throw new InvalidOperationException("the holder has no activation after a copy reached it");
        var leaving = fixture.Cluster.Silos.Single(s => s.Name == here);
        Assert.NotSame(fixture.Cluster.Silos[0], leaving);

        StayInPlaceDirector.Arm(holder.GetGrainId());
        try
        {
            await fixture.Cluster.StopSiloAsync(leaving); // graceful: it asks its holders to leave first
            Assert.True(StayInPlaceDirector.Kept(holder.GetGrainId()) >= 1, $"the leaving silo never placed its holder:{Environment.NewLine}{fixture.Logs.Dump(leaving)}");
        }
        finally
        {
            StayInPlaceDirector.Disarm(holder.GetGrainId());
        }

        string key = StageKeys.Shard("stays-in-place-leave", 0);
        Assert.True(fixture.Logs.Of(leaving, "LogStaysNoPlacement").Any(l => l.Message.Contains(key, StringComparison.Ordinal)),
            $"the holder did not say it stays:{Environment.NewLine}{fixture.Logs.Dump(leaving)}");
        // The stop ended its evacuation on the holders' answers — none moved — not on its timeout, and waited for no parcel after.
        Assert.Single(fixture.Logs.Of(leaving, "LogEvacuated"));
        Assert.Empty(fixture.Logs.Of(leaving, "LogEvacuationTimedOut", "LogWaitingForLateParcels", "LogLateParcelsTimedOut"));
    }
}
