using Cluster.Grains.Interfaces.Checkpoints;

namespace Cluster.Client.Views;

/// <summary>One committed checkpoint of a job.</summary>
internal sealed record CheckpointView(string JobId, long Step, long Epoch, DateTimeOffset CreatedAt, int Shards, long Bytes, IReadOnlyList<int> UnitsPerStage)
{
    public static CheckpointView From(CheckpointManifest m) =>
        new(m.JobId, m.Step, m.Epoch, m.CreatedAt, m.Shards.Count, m.Shards.Sum(s => s.Bytes), m.UnitsPerStage);
}
