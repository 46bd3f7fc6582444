namespace Cluster.Kernels.Checkpoint;

/// <summary>A checkpoint file is missing, truncated, corrupt or does not belong to this model; the message names the file.</summary>
public sealed class CheckpointCorruptException : Exception
{
    public CheckpointCorruptException(string source, string problem, Exception? inner = null)
        : base($"Checkpoint file '{source}' cannot be used: {problem}", inner)
    {
        Source = source;
        Problem = problem;
    }

    /// <summary>The file (or blob / shard name) at fault.</summary>
    public new string Source { get; }

    public string Problem { get; }
}
