namespace Cluster.Grains.Jobs;

/// <summary>
/// A sealed block of <see cref="JobStateWriter.LossChunkSize"/> consecutive step losses of a job, stored once beside its
/// state, so what a job saves per step stays O(1) in its step count. Ids are append-only.
/// </summary>
[GenerateSerializer, Alias("cluster.LossChunk")]
public sealed class LossChunk
{
    [Id(0)] public List<double> Losses { get; set; } = [];
}
