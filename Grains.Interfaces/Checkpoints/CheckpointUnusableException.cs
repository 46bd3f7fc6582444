namespace Cluster.Grains.Interfaces.Checkpoints;

/// <summary>A stage could not load a checkpoint: a shard is missing, truncated, corrupt or from another model.</summary>
[GenerateSerializer, Alias("cluster.CheckpointUnusableException")]
public sealed class CheckpointUnusableException(string shard, string message) : Exception(message)
{
    /// <summary>The shard (file or blob) at fault.</summary>
    [Id(0)]
    public string Shard { get; private set; } = shard;
}
