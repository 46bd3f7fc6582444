using Cluster.Grains.Interfaces.Events;

namespace Cluster.Grains.Tests;

public sealed class RestoredFromTests
{
    [Fact]
    public void Only_a_restore_from_memory_counts_as_one_whatever_copies_its_message_lists()
    {
        // A durable fall-back lists the in-memory snapshots it found: the words "in-memory" in it must not make it a memory restore.
        Assert.True(RestoredFrom.IsMemory($"{RestoredFrom.Memory}8 ({RestoredFrom.CopiesFound}s0: 7/8 (live: r1 at 8), s1: 7/8)"));
        Assert.False(RestoredFrom.IsMemory($"{RestoredFrom.Checkpoint}10 ({RestoredFrom.SnapshotsHeld}s0: none, s1: 14/15)"));
        Assert.False(RestoredFrom.IsMemory($"{RestoredFrom.InitialWeights} ({RestoredFrom.SnapshotsHeld}s0: 9/10, s1: none)"));
        Assert.False(RestoredFrom.IsMemory(""));
    }
}
