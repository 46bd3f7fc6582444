using System.Globalization;
using Cluster.Grains.Interfaces.Events;

namespace Cluster.Grains.Tests;

/// <summary>
/// What a job's recorded events must show after its recoveries. A single failure costs no completed step: a step
/// counts only once every stage's snapshot of it is held in two silos (the commit point, <c>TrainingJobGrain.Run</c>),
/// so every restore is from the in-memory snapshots and no event recomputes a counted step. Two failures that take
/// every copy of some stage's state restore the newest committed durable checkpoint and say what they recompute.
/// The restore's wording is <see cref="RestoredFrom"/>'s.
/// </summary>
internal static class RecoveryAssert
{
    /// <summary>
    /// Every event of <paramref name="events"/> recomputes no completed step, and every restore among them is from the
    /// in-memory snapshots ("restored from the durable checkpoint …" and "restarted from the initial weights …" are
    /// a single failure that lost the in-memory copies). <paramref name="story"/> goes into the failure's message.
    /// </summary>
    public static void CostNoCompletedStep(IEnumerable<ClusterEvent> events, string story)
    {
        foreach (var e in events)
        {
            Assert.True(e.StepsLost == 0, $"{e.Kind} recomputed {e.StepsLost} completed step(s): {e.Message}. {story}");
            if (e.Kind == ClusterEventKind.JobRestored)
                Assert.True(RestoredFrom.IsMemory(e.Message), $"a single failure fell back to durable state: {e.Message}. {story}");
        }
    }

    /// <summary>
    /// The first restore among <paramref name="events"/> that is not from memory: from the durable checkpoint at a step
    /// no older than <paramref name="newestCommitted"/> (a committed checkpoint is never skipped), saying it recomputes
    /// exactly the steps counted past it when the job began to recover (the first <see cref="ClusterEventKind.JobRecovering"/>'s
    /// step, no fewer than <paramref name="countedBefore"/>, the steps counted before the failures), and naming the
    /// in-memory snapshots it found. Returns the checkpoint's step.
    /// </summary>
    public static long RestoredTheNewestCheckpoint(IEnumerable<ClusterEvent> events, long newestCommitted, long countedBefore, string story)
    {
        var restore = events.FirstOrDefault(e => e.Kind == ClusterEventKind.JobRestored && !RestoredFrom.IsMemory(e.Message));
        Assert.True(restore is not null, $"no restore fell back to durable state. {story}");
        Assert.True(restore.Message.StartsWith(RestoredFrom.Checkpoint, StringComparison.Ordinal), $"the restore is not from a durable checkpoint: {restore.Message}. {story}");
        string digits = new([.. restore.Message[RestoredFrom.Checkpoint.Length..].TakeWhile(char.IsAsciiDigit)]);
        long step = long.Parse(digits, CultureInfo.InvariantCulture);
        Assert.True(step >= newestCommitted, $"the restore went back to step {step}, past the checkpoint of step {newestCommitted} committed before the failures. {story}");
        var recovering = events.FirstOrDefault(e => e.Kind == ClusterEventKind.JobRecovering);
        Assert.True(recovering is not null, $"no JobRecovering event. {story}");
        Assert.True(recovering.Step >= countedBefore, $"the first recovery began at step {recovering.Step}, before the {countedBefore} steps counted before the failures. {story}");
        Assert.True(restore.StepsLost == recovering.Step - step,
            $"the restore from step {step} says it recomputes {restore.StepsLost} completed step(s), but {recovering.Step} were counted when the job began to recover. {story}");
        Assert.True(restore.Message.Contains(RestoredFrom.SnapshotsHeld, StringComparison.Ordinal), $"the restore does not say which in-memory snapshots it found: {restore.Message}. {story}");
        return step;
    }
}
