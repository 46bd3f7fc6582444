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
}
