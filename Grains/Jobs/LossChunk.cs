namespace Cluster.Grains.Jobs;

/// <summary>
/// A sealed block of <see cref="JobStateWriter.LossChunkSize"/> consecutive step losses of a job, stored once beside its
/// state, so what a job saves per step stays O(1) in its step count. Ids are append-only.
/// </summary>
[GenerateSerializer, Alias("cluster.LossChunk")]
public sealed class LossChunk
{
    [Id(0)] public List<double> Losses { get; set; } = [];

    /// <summary>The epoch of the activation that wrote it (0 in chunks written before it existed).</summary>
    [Id(1)] public long Epoch { get; set; }

    /// <summary>The activation that wrote it (<see cref="JobGrainState.Owner"/>; null in chunks written before it existed).</summary>
    [Id(2)] public string? Owner { get; set; }
}
