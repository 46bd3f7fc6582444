namespace Cluster.Grains.Interfaces.Events;

/// <summary>
/// How a <see cref="ClusterEventKind.JobRestored"/> event's message begins, by where the job's state came from: the one
/// wording the job writes and the console, the benchmarks and the tests read (a message lists the in-memory copies the
/// job found after that, in parentheses, which must not be taken for the source).
/// </summary>
public static class RestoredFrom
{
    /// <summary>Every stage restored from an in-memory copy (a held snapshot, a stage's own, or a replica's live state); the step follows.</summary>
    public const string Memory = "restored from the in-memory snapshots of step ";

    /// <summary>Every stage restored from a committed durable checkpoint; its step follows.</summary>
    public const string Checkpoint = "restored from the durable checkpoint at step ";

    /// <summary>No checkpoint and no copy: the initial weights (a job's first placement, or an operator's rewind to step 0).</summary>
    public const string InitialWeights = "restarted from the initial weights";

    /// <summary>After a durable restore's source, in parentheses: the in-memory copies the job found, too few to restore from.</summary>
    public const string SnapshotsHeld = "in-memory snapshots held: ";

    /// <summary>After a memory restore's step, in parentheses: the in-memory copies the job found (live states of replicas included).</summary>
    public const string CopiesFound = "copies found: ";

    /// <summary>Whether <paramref name="message"/> (a <see cref="ClusterEventKind.JobRestored"/> event's) is a restore from memory.</summary>
    public static bool IsMemory(string message) => message is not null && message.StartsWith(Memory, StringComparison.Ordinal);
}
