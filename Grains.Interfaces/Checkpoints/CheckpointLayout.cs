namespace Cluster.Grains.Interfaces.Checkpoints;

/// <summary>Where a committed checkpoint's shards and manifest lie in its store. Append-only.</summary>
public enum CheckpointLayout
{
    /// <summary>
    /// <c>&lt;job&gt;/step-&lt;step&gt;/epoch-&lt;epoch&gt;/</c>: each epoch writes and commits its own shard set, so two
    /// activations of one job never share a file (the fenced layout, written since issue 12).
    /// </summary>
    EpochFolders = 0,

    /// <summary><c>&lt;job&gt;/step-&lt;step&gt;/</c>: shards and manifest straight in the step folder (written by earlier versions; read and deleted, never written).</summary>
    Flat = 1,
}
