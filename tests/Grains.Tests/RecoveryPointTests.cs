using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Jobs;

namespace Cluster.Grains.Tests;

/// <summary>The job grain's rule for where a recovery resumes, as a pure function (the fleet simulator drives it too).</summary>
public sealed class RecoveryPointTests
{
    private static IReadOnlySet<long>[] Copies(params long[][] perStage) => [.. perStage.Select(s => (IReadOnlySet<long>)s.ToHashSet())];

    [Fact]
    public void The_newest_step_every_stage_still_has_wins()
    {
        Assert.Equal(12, RecoveryPoint.InMemoryStep(Copies([12, 11], [12], [11, 12]), newestDurableStep: 10, completedSteps: 12));
        // Stage 1 lost its copy of 12 (its own died with its silo, its shard holds 11): all resume from 11.
        Assert.Equal(11, RecoveryPoint.InMemoryStep(Copies([12, 11], [11], [11, 12]), 10, 12));
    }

    [Fact]
    public void Without_a_common_step_newer_than_the_durable_checkpoint_the_durable_one_is_used()
    {
        Assert.Null(RecoveryPoint.InMemoryStep(Copies([12], [11]), 10, 12));          // nothing common
        Assert.Null(RecoveryPoint.InMemoryStep(Copies([10], [10]), 10, 12));          // not newer than the checkpoint
        Assert.Null(RecoveryPoint.InMemoryStep(Copies([12], []), 10, 12));            // a stage with no copy at all
        Assert.Null(RecoveryPoint.InMemoryStep([], 10, 12));
    }

    [Fact]
    public void A_copy_from_beyond_the_completed_steps_is_not_used()
    {
        // A snapshot of a step the job never committed as complete (e.g. taken while the step was being abandoned).
        Assert.Equal(11, RecoveryPoint.InMemoryStep(Copies([13, 11], [13, 11]), 10, 12));
    }

    private static IReadOnlyCollection<SnapshotRecord>[] Records(params SnapshotRecord[][] perStage) => perStage;

    private static SnapshotRecord R(long step, long epoch = 3, double? loss = null) => new(step, epoch, loss ?? 1.0 / (step + 1));

    [Fact]
    public void Steps_counted_after_the_last_saved_count_are_taken_back_with_their_losses_from_the_holders_records()
    {
        // Saved count 11 (the coordinator died before saving 12 and 13); every stage holds 12 and 13 of the counted epoch.
        var point = RecoveryPoint.InMemoryStep(Records([R(12), R(13)], [R(13), R(12)]), newestDurableStep: 9, completedSteps: 11, countedEpoch: 3);
        Assert.NotNull(point);
        Assert.Equal(13, point.Value.Step);
        Assert.Equal([1.0 / 13, 1.0 / 14], point.Value.Losses); // the losses of steps 11 and 12, from the records of 12 and 13
        // Not past the saved count: nothing to take back.
        var within = RecoveryPoint.InMemoryStep(Records([R(12), R(13)], [R(12), R(13)]), 9, 13, 3);
        Assert.Equal((13L, 0), (within!.Value.Step, within.Value.Losses.Length));
    }

    [Fact]
    public void A_gap_in_the_records_losses_stops_the_count_where_the_history_is_whole()
    {
        // 12's loss is unknown (a copy taken when the stage was configured): the history cannot reach 13.
        Assert.Null(RecoveryPoint.InMemoryStep(Records([new SnapshotRecord(12, 3, null), R(13)], [R(13)]), 9, 11, 3));
        // With 11 held too, the job restores 11, its saved count.
        var point = RecoveryPoint.InMemoryStep(Records([R(11), new SnapshotRecord(12, 3, null), R(13)], [R(11), R(13)]), 9, 11, 3);
        Assert.Equal(11, point!.Value.Step);
        Assert.Empty(point.Value.Losses);
    }

    [Fact]
    public void Copies_of_another_epoch_never_take_the_job_past_its_saved_count()
    {
        // A stage's only copy of 12 is of epoch 2: it may be of a timeline an operator rewound away from.
        var point = RecoveryPoint.InMemoryStep(Records([R(11), R(12)], [R(11), R(12, epoch: 2)]), 9, 11, 3);
        Assert.Equal(11, point!.Value.Step);
        // Losses recorded in another epoch do not fill the history either.
        Assert.Null(RecoveryPoint.InMemoryStep(Records([R(12, epoch: 2)], [R(12, epoch: 2)]), 9, 11, 3));
        // Up to the saved count, any epoch's copy serves, as before.
        Assert.Equal(11, RecoveryPoint.InMemoryStep(Records([R(11, epoch: 1)], [R(11, epoch: 2)]), 9, 11, 3)!.Value.Step);
    }

    [Fact]
    public void The_loss_of_the_update_the_job_sent_lets_a_live_state_past_the_count_serve()
    {
        // Counted 11; rank 0's stages hold 11 (and s0 its live 12), rank 1's s1 applied the update: its live state is 12.
        // Live states carry no loss; the job knows step 11's loss (it sent the update), keyed by the 12 steps after it.
        var copies = Records([R(11), new SnapshotRecord(12, 3, null)], [R(11), new SnapshotRecord(12, 3, null)]);
        Assert.Equal(11, RecoveryPoint.InMemoryStep(copies, 9, 11, 3)!.Value.Step);
        var sent = new Dictionary<long, double> { [12] = 0.5 };
        var point = RecoveryPoint.InMemoryStep(copies, 9, 11, 3, sent);
        Assert.Equal(12, point!.Value.Step);
        Assert.Equal([0.5], point.Value.Losses);
        // Two updates sent past the count (the next step's update applied while this one's snapshot was on its way):
        // live states of 13 serve with both losses known.
        var two = RecoveryPoint.InMemoryStep(Records([R(11), new SnapshotRecord(13, 3, null)], [R(11), new SnapshotRecord(13, 3, null)]), 9, 11, 3,
            new Dictionary<long, double> { [12] = 0.5, [13] = 0.25 });
        Assert.Equal(13, two!.Value.Step);
        Assert.Equal([0.5, 0.25], two.Value.Losses);
        // With only the second loss known, the history has a gap: back to the count.
        Assert.Equal(11, RecoveryPoint.InMemoryStep(Records([R(11), new SnapshotRecord(13, 3, null)], [R(11), new SnapshotRecord(13, 3, null)]), 9, 11, 3,
            new Dictionary<long, double> { [13] = 0.25 })!.Value.Step);
        // A stage without a copy of 12 keeps the job at 11, whatever the job knows.
        Assert.Equal(11, RecoveryPoint.InMemoryStep(Records([R(11), new SnapshotRecord(12, 3, null)], [R(11)]), 9, 11, 3, sent)!.Value.Step);
        // A live state of another epoch is no copy past the count.
        Assert.Equal(11, RecoveryPoint.InMemoryStep(Records([R(11), new SnapshotRecord(12, 3, null)], [R(11), new SnapshotRecord(12, 2, null)]), 9, 11, 3, sent)!.Value.Step);
    }
}
