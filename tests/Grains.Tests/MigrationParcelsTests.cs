using Cluster.Grains.Checkpoints;
using Cluster.Grains.Interfaces.Checkpoints;

namespace Cluster.Grains.Tests;

/// <summary>A silo's parcels of migrated snapshots: chunks by index, kept while read, given up when nobody reads them.</summary>
public sealed class MigrationParcelsTests
{
    private static readonly UnitImage s_unit = new(3, "block.1", [1, 2]) { MoreChunks = [[3], [4, 5]] };

    [Fact]
    public void Chunks_are_found_by_snapshot_unit_and_index_and_nothing_else()
    {
        using var parcels = new MigrationParcels(new ManualTimeProvider(DateTimeOffset.UnixEpoch));
        var id = parcels.Post([[s_unit]]);

        Assert.Equal([1, 2], parcels.Chunk(id, 0, 3, 0));
        Assert.Equal([4, 5], parcels.Chunk(id, 0, 3, 2));
        Assert.Null(parcels.Chunk(id, 0, 3, 3));
        Assert.Null(parcels.Chunk(id, 0, 2, 0));
        Assert.Null(parcels.Chunk(id, 1, 3, 0));
        Assert.Null(parcels.Chunk(Guid.NewGuid(), 0, 3, 0));
        parcels.Drop(id);
        Assert.Null(parcels.Chunk(id, 0, 3, 0));
        Assert.Equal(0, parcels.Count);
    }

    [Fact]
    public void A_grain_finds_the_newest_parcel_it_left_with_records_and_the_headers_to_take_it_by()
    {
        using var parcels = new MigrationParcels(new ManualTimeProvider(DateTimeOffset.UnixEpoch));
        var older = parcels.Post([[s_unit]], "checkpointshard/job/s1", [new SnapshotRecord(7, 2, 1.5)]);
        var newer = parcels.Post([[s_unit], [s_unit]], "checkpointshard/job/s1", [new SnapshotRecord(8, 2, 1.25), new SnapshotRecord(9, 3, null)]);
        parcels.Post([[s_unit]], "checkpointshard/job/s0", [new SnapshotRecord(20, 3, 1.0)]);
        parcels.Post([[s_unit]], "checkpointshard/job/s2"); // no records: a stage's parcel, not one to take over this way

        var found = parcels.FindLeftFor("checkpointshard/job/s1");
        Assert.NotNull(found);
        Assert.Equal(newer, found.Parcel);
        Assert.Equal([8L, 9L], found.Records.Select(r => r.Step));
        var header = Assert.Single(found.Headers[1]);
        Assert.Equal((3, "block.1", 3, 0), (header.UnitIndex, header.UnitName, header.SeparateChunks, header.Image.Length));
        Assert.Null(parcels.FindLeftFor("checkpointshard/job/s2"));
        Assert.Null(parcels.FindLeftFor("checkpointshard/job/s3"));

        parcels.Drop(newer);
        Assert.Equal(older, parcels.FindLeftFor("checkpointshard/job/s1")?.Parcel);
        parcels.Drop(older);
        Assert.Null(parcels.FindLeftFor("checkpointshard/job/s1"));
    }

    [Fact]
    public void A_parcel_being_read_stays_and_one_nobody_reads_goes_after_the_keep_time()
    {
        var clock = new ManualTimeProvider(DateTimeOffset.UnixEpoch);
        using var parcels = new MigrationParcels(clock);
        var read = parcels.Post([[s_unit]]);
        var unread = parcels.Post([[s_unit]]);

        clock.Advance(MigrationParcels.Keep * 0.75);
        Assert.NotNull(parcels.Chunk(read, 0, 3, 1));
        clock.Advance(MigrationParcels.Keep * 0.5);
        parcels.Sweep();

        Assert.Null(parcels.Chunk(unread, 0, 3, 0));
        Assert.Equal([3], parcels.Chunk(read, 0, 3, 1));
        clock.Advance(MigrationParcels.Keep);
        parcels.Sweep();
        Assert.Equal(0, parcels.Count);
    }

    [Fact]
    public async Task WhenEmpty_completes_once_every_parcel_is_taken_or_given_up_including_ones_posted_while_waiting()
    {
        var clock = new ManualTimeProvider(DateTimeOffset.UnixEpoch);
        using var parcels = new MigrationParcels(clock);
        await parcels.WhenEmpty(CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(1)); // none held: at once

        var first = parcels.Post([[s_unit]]);
        var empty = parcels.WhenEmpty(CancellationToken.None);
        clock.Advance(MigrationParcels.Keep * 0.75);
        parcels.Post([[s_unit]]); // posted while waiting
        parcels.Drop(first);
        Assert.False(empty.IsCompleted, "completed with a parcel still held");

        clock.Advance(MigrationParcels.Keep);
        parcels.Sweep(); // the second, untouched, given up
        await empty.WaitAsync(TimeSpan.FromMinutes(1));

        parcels.Post([[s_unit]]);
        using var cancel = new CancellationTokenSource();
        var cancelled = parcels.WhenEmpty(cancel.Token);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
    }

    [Fact]
    public async Task A_departing_grain_counts_until_it_posted_its_parcel_or_left_without_one_or_the_keep_time_passed()
    {
        var clock = new ManualTimeProvider(DateTimeOffset.UnixEpoch);
        using var parcels = new MigrationParcels(clock);

        parcels.Departing("a");
        var empty = parcels.WhenEmpty(CancellationToken.None);
        var id = parcels.Post([[s_unit]]);
        parcels.Departed("a");
        Assert.Equal(1, parcels.Count);
        parcels.Drop(id);
        await empty.WaitAsync(TimeSpan.FromMinutes(1));

        parcels.Departing("b");
        parcels.Deactivating("b", new DeactivationReason(DeactivationReasonCode.Migrating, "migrating")); // its dehydration (the parcel) follows
        Assert.False(parcels.WhenEmpty(CancellationToken.None).IsCompleted);
        parcels.Deactivating("b", new DeactivationReason(DeactivationReasonCode.ApplicationRequested, "released")); // left without migrating
        await parcels.WhenEmpty(CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(1));

        parcels.Departing("c"); // a migration whose placement failed: nobody ends it
        var given = parcels.WhenEmpty(CancellationToken.None);
        clock.Advance(MigrationParcels.Keep);
        parcels.Sweep();
        await given.WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(0, parcels.Count);
    }

    [Fact]
    public async Task Parcels_and_departures_headed_to_a_silo_declared_dead_are_given_up_and_no_others()
    {
        using var parcels = new MigrationParcels(new ManualTimeProvider(DateTimeOffset.UnixEpoch));
        var dead = SiloAddress.New(System.Net.IPAddress.Loopback, 11111, 1);
        var alive = SiloAddress.New(System.Net.IPAddress.Loopback, 22222, 1);
        var toDead = parcels.LeaveHeadedTo("stage/a", dead, [[s_unit]]);
        parcels.Departing("holder/b");
        parcels.Headed("holder/b", dead); // not yet dehydrated: still departing
        var toAlive = parcels.LeaveHeadedTo("holder/c", alive, [[s_unit]]);
        parcels.Headed("stage/d", dead); // not departing: nothing to remember
        var unheaded = parcels.Post([[s_unit]], "stage/d");
        var waiting = parcels.WhenEmpty(CancellationToken.None);

        Assert.Equal((2, 0), parcels.TargetsLost(new HashSet<SiloAddress> { dead }));

        Assert.Null(parcels.Chunk(toDead, 0, 3, 0));
        Assert.NotNull(parcels.Chunk(toAlive, 0, 3, 0));
        Assert.NotNull(parcels.Chunk(unheaded, 0, 3, 0));
        Assert.Equal(2, parcels.Count);
        Assert.Equal((0, 0), parcels.TargetsLost(new HashSet<SiloAddress> { dead }));
        parcels.Drop(toAlive);
        parcels.Drop(unheaded);
        await waiting.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_stages_parcel_whose_target_died_is_kept_for_its_heir_for_a_while_and_counted_by_the_leave()
    {
        var clock = new ManualTimeProvider(DateTimeOffset.UnixEpoch);
        using var parcels = new MigrationParcels(clock);
        var dead = SiloAddress.New(System.Net.IPAddress.Loopback, 11111, 1);
        var alive = SiloAddress.New(System.Net.IPAddress.Loopback, 22222, 1);
        const string heir = "checkpointshard/job/s1";
        SnapshotRecord[] records = [new SnapshotRecord(41, 3, 1.5), new SnapshotRecord(42, 3, 1.25)];
        var moving = parcels.LeaveHeadedTo("pipelinestage/job/r0/s1", dead, [[s_unit], [s_unit]], records, heir);
        var elsewhere = parcels.LeaveHeadedTo("pipelinestage/job/r0/s2", alive, [[s_unit]], [new SnapshotRecord(42, 3, 1.0)], "checkpointshard/job/s2");

        // Before the death is known here: the heir may copy it but must leave it for the stage — unless the asker's view says the target is dead.
        var early = parcels.FindLeftFor(heir);
        Assert.NotNull(early);
        Assert.Equal((moving, true), (early.Parcel, early.StillAwaited));
        Assert.Equal([41L, 42L], early.Records.Select(r => r.Step));
        Assert.False(parcels.FindLeftFor(heir, new HashSet<SiloAddress> { dead })!.StillAwaited);
        Assert.True(parcels.FindLeftFor("checkpointshard/job/s2")!.StillAwaited); // headed to a live silo
        Assert.Null(parcels.FindLeftFor("checkpointshard/job/s3"));

        Assert.Equal((0, 1), parcels.TargetsLost(new HashSet<SiloAddress> { dead }));
        var orphan = parcels.FindLeftFor(heir);
        Assert.Equal((moving, false), (orphan?.Parcel, orphan?.StillAwaited));
        Assert.Equal((0, 0), parcels.TargetsLost(new HashSet<SiloAddress> { dead })); // once
        parcels.Drop(elsewhere);
        var waiting = parcels.WhenEmpty(CancellationToken.None);
        Assert.False(waiting.IsCompleted); // a leave waits for the heir …

        clock.Advance(MigrationParcels.OrphanKeep * 0.9);
        parcels.Sweep();
        Assert.NotNull(parcels.Chunk(moving, 1, 3, 0));
        clock.Advance(MigrationParcels.OrphanKeep * 0.2); // … at most OrphanKeep, however often it is read meanwhile
        parcels.Sweep();
        Assert.Null(parcels.FindLeftFor(heir));
        await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(0, parcels.Count);
    }

    [Fact]
    public async Task An_orphan_is_freed_only_when_its_heir_holds_every_snapshot_in_it_of_that_epoch_or_newer()
    {
        var clock = new ManualTimeProvider(DateTimeOffset.UnixEpoch);
        using var parcels = new MigrationParcels(clock);
        var dead = SiloAddress.New(System.Net.IPAddress.Loopback, 1, 1);
        const string stage = "pipelinestage/job/r0/s1", heir = "checkpointshard/job/s1";
        var orphan = parcels.LeaveHeadedTo(stage, dead, [[s_unit], [s_unit]], [new SnapshotRecord(6, 2, 1.5), new SnapshotRecord(7, 2, 1.25)], heir);

        Assert.Empty(parcels.Orphans());
        Assert.False(parcels.FreeIfHeirHolds(orphan, [new SnapshotRecord(6, 2, 1.5), new SnapshotRecord(7, 2, 1.25)])); // not an orphan yet: the stage may still take it
        Assert.Equal((0, 1), parcels.TargetsLost(new HashSet<SiloAddress> { dead }));
        var (found, foundHeir, records) = Assert.Single(parcels.Orphans());
        Assert.Equal((orphan, heir), (found, foundHeir));
        Assert.Equal([6L, 7L], records.Select(r => r.Step));

        var waiting = parcels.WhenEmpty(CancellationToken.None);
        Assert.False(parcels.FreeIfHeirHolds(orphan, [new SnapshotRecord(7, 2, 1.25), new SnapshotRecord(8, 2, 1.0)])); // step 6 only here
        Assert.False(parcels.FreeIfHeirHolds(orphan, [new SnapshotRecord(6, 1, 1.5), new SnapshotRecord(7, 1, 1.25)])); // an older epoch's
        Assert.False(waiting.IsCompleted);
        Assert.True(parcels.FreeIfHeirHolds(orphan, [new SnapshotRecord(6, 2, 1.5), new SnapshotRecord(7, 3, 1.0), new SnapshotRecord(8, 3, 0.9)]));
        await waiting.WaitAsync(TimeSpan.FromSeconds(10)); // a leave waits no longer
        Assert.Empty(parcels.Orphans());
        Assert.Null(parcels.FindLeftFor(heir));
    }

    [Fact]
    public void An_orphan_is_freed_once_its_heir_holds_a_later_step_of_a_newer_epoch_and_not_for_a_later_step_of_its_own()
    {
        using var parcels = new MigrationParcels(new ManualTimeProvider(DateTimeOffset.UnixEpoch));
        var dead = SiloAddress.New(System.Net.IPAddress.Loopback, 1, 1);
        const string stage = "pipelinestage/job/r0/s1", heir = "checkpointshard/job/s1";
        var orphan = parcels.LeaveHeadedTo(stage, dead, [[s_unit], [s_unit]], [new SnapshotRecord(6, 2, 1.5), new SnapshotRecord(7, 2, 1.25)], heir);
        parcels.TargetsLost(new HashSet<SiloAddress> { dead });

        Assert.False(parcels.FreeIfHeirHolds(orphan, [new SnapshotRecord(8, 2, 1.0), new SnapshotRecord(9, 2, 0.9)])); // the same epoch: not a recovery since
        Assert.False(parcels.FreeIfHeirHolds(orphan, [new SnapshotRecord(7, 3, 1.0)])); // re-seeded at step 7: step 6 is only here
        Assert.False(parcels.FreeIfHeirHolds(orphan, [new SnapshotRecord(5, 3, 1.0), new SnapshotRecord(6, 3, 0.9)])); // rewound: not past it
        Assert.Single(parcels.Orphans());
        Assert.True(parcels.FreeIfHeirHolds(orphan, [new SnapshotRecord(8, 3, 1.0), new SnapshotRecord(9, 3, 0.9)])); // recovered, and past it
        Assert.Empty(parcels.Orphans());
    }

    /// <summary>
    /// A stage's parcel whose target lives but whose new activation never takes it (it could not register in the grain
    /// directory: <c>KillDuringLeaveProcessTests</c> seed 230, a leave held 81 s) is offered to its heir once untouched
    /// for <see cref="MigrationParcels.UnclaimedAfter"/>, and freed only once the heir holds a later step of a newer
    /// epoch: holding the same steps is not enough, the parcel being the stage's own copy beside the heir's. A holder's
    /// own unclaimed parcel goes once the holder holds its steps or a later one.
    /// </summary>
    [Fact]
    public async Task Unclaimed_parcels_are_freed_once_the_job_went_on_without_them_and_only_then()
    {
        var clock = new ManualTimeProvider(DateTimeOffset.UnixEpoch);
        using var parcels = new MigrationParcels(clock);
        var alive = SiloAddress.New(System.Net.IPAddress.Loopback, 2, 2);
        const string stage = "pipelinestage/job/r0/s1", heir = "checkpointshard/job/s1";
        var parcel = parcels.LeaveHeadedTo(stage, alive, [[s_unit], [s_unit]], [new SnapshotRecord(6, 2, 1.5), new SnapshotRecord(7, 2, 1.25)], heir);
        var holder = parcels.LeaveHeadedTo("checkpointshard/job/s0", alive, [[s_unit]], [new SnapshotRecord(7, 2, 1.25)]); // a holder's: no heir

        clock.Advance(MigrationParcels.UnclaimedAfter * 0.9);
        Assert.Empty(parcels.Unclaimed()); // its new activation may be on its way
        clock.Advance(MigrationParcels.UnclaimedAfter * 0.2);
        Assert.Equal(new[] { holder, parcel }.Order(), parcels.Unclaimed().Select(u => u.Parcel).Order());
        var (_, foundKey, foundHeir, records) = parcels.Unclaimed().Single(u => u.Parcel == parcel);
        Assert.Equal((stage, heir), (foundKey, foundHeir));
        Assert.Equal([6L, 7L], records.Select(r => r.Step));
        Assert.NotNull(parcels.Chunk(parcel, 0, s_unit.UnitIndex, 0)); // read: its activation is taking it
        Assert.Equal([holder], parcels.Unclaimed().Select(u => u.Parcel));
        clock.Advance(MigrationParcels.UnclaimedAfter);
        Assert.Equal(2, parcels.Unclaimed().Count);
        Assert.Empty(parcels.Orphans());

        var waiting = parcels.WhenEmpty(CancellationToken.None);
        Assert.False(parcels.FreeIfHeirHolds(parcel, [new SnapshotRecord(6, 2, 1.5), new SnapshotRecord(7, 2, 1.25)])); // the same copies: the stage's is the second
        Assert.False(parcels.FreeIfHeirHolds(parcel, [new SnapshotRecord(8, 2, 1.0), new SnapshotRecord(9, 2, 0.9)])); // the same epoch: no recovery since
        Assert.False(parcels.FreeIfHeirHolds(parcel, [new SnapshotRecord(5, 3, 1.0), new SnapshotRecord(7, 3, 0.9)])); // recovered, not past it
        Assert.False(parcels.FreeIfHeirHolds(holder, [new SnapshotRecord(9, 3, 0.9)])); // a holder's parcel has no heir
        Assert.False(parcels.FreeIfOwnerHolds(parcel, [new SnapshotRecord(9, 3, 0.9)])); // nor is a stage's its holder's own
        Assert.True(parcels.FreeIfHeirHolds(parcel, [new SnapshotRecord(8, 3, 1.0), new SnapshotRecord(9, 3, 0.9)])); // recovered, and past it
        Assert.Equal([holder], parcels.Unclaimed().Select(u => u.Parcel));

        // A holder's own parcel goes once the holder, active elsewhere, holds its steps or a later one.
        Assert.False(parcels.FreeIfOwnerHolds(holder, [new SnapshotRecord(6, 2, 1.5)])); // an earlier step only
        Assert.False(parcels.FreeIfOwnerHolds(holder, [new SnapshotRecord(7, 1, 1.25)])); // an older epoch's
        Assert.False(waiting.IsCompleted);
        Assert.True(parcels.FreeIfOwnerHolds(holder, [new SnapshotRecord(8, 2, 1.0)])); // the job counted a later step
        Assert.Empty(parcels.Unclaimed());
        await waiting.WaitAsync(TimeSpan.FromSeconds(10)); // a leave waits no longer
    }
}
