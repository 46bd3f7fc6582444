using System.Security.Cryptography;
using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Stages;
using Cluster.Grains.Placement;
using Cluster.Kernels.Checkpoint;
using Microsoft.Extensions.Logging;

namespace Cluster.Grains.Checkpoints;

/// <summary>
/// Holds the latest snapshot of one stage in memory, away from the stage's silo — the in-memory replica a recovery
/// restores from when it is newer than the last durable checkpoint — and writes checkpoint snapshots to the store in
/// the background so training never waits for storage. <see cref="WaitDurable"/> lets the job
/// commit a manifest only once every shard is on durable storage.
/// </summary>
[Reentrant]
[AwayFromSiloPlacement]
internal sealed partial class CheckpointShardGrain(ICheckpointStore store, ILogger<CheckpointShardGrain> logger) : Grain, ICheckpointShardGrain
{
    private readonly Dictionary<long, Task<IReadOnlyList<ShardRecord>>> _writes = [];
    private long _epoch = -1;
    private readonly List<(long Step, IReadOnlyList<UnitImage> Units)> _held = []; // newest last, at most two

    public Task Accept(long epoch, long completedSteps, int stage, IReadOnlyList<UnitImage> units, bool durable)
    {
        if (epoch < _epoch)
            throw new StaleEpochException(this.GetPrimaryKeyString(), epoch, _epoch);
        // A newer epoch may have rewound the job (an operator's restore): its snapshots replace later ones of the old timeline.
        bool newEpoch = epoch > _epoch;
        _epoch = epoch;
        if (newEpoch)
            _held.RemoveAll(h => h.Step >= completedSteps);
        if (_held.Count == 0 || completedSteps > _held[^1].Step)
        {
            _held.Add((completedSteps, units));
            if (_held.Count > 2) _held.RemoveAt(0);
        }
        else if (completedSteps == _held[^1].Step)
        {
            _held[^1] = (completedSteps, units);
        }
        if (!durable) return Task.CompletedTask;
        string jobId = this.GetPrimaryKeyString().Split('/')[0];
        _writes[completedSteps] = WriteAsync(jobId, completedSteps, stage, units);
        // Keep only writes that may still be waited on; finished older ones are done with.
        foreach (long step in _writes.Keys.Where(s => s < completedSteps && _writes[s].IsCompleted).ToArray())
            _writes.Remove(step);
        return Task.CompletedTask;
    }

    public Task<long> GetLatestStep() => Task.FromResult(_held.Count > 0 ? _held[^1].Step : -1);

    public Task<long[]> GetSnapshotSteps() => Task.FromResult(_held.Select(h => h.Step).ToArray());

    public Task<IReadOnlyList<UnitImage>?> GetSnapshot(long completedSteps) =>
        Task.FromResult(_held.Where(h => h.Step == completedSteps).Select(h => h.Units).FirstOrDefault());

    public async Task<IReadOnlyList<ShardRecord>> WaitDurable(long epoch, long completedSteps)
    {
        if (!_writes.TryGetValue(completedSteps, out var write))
            throw new InvalidOperationException($"Shard {this.GetPrimaryKeyString()} holds no snapshot of step {completedSteps} (epoch {epoch}); it may have restarted since.");
        return await write;
    }

    private async Task<IReadOnlyList<ShardRecord>> WriteAsync(string jobId, long step, int stage, IReadOnlyList<UnitImage> units)
    {
        var records = new List<ShardRecord>(units.Count);
        foreach (var unit in units)
        {
            string name = UnitStateImage.FileNameOf(unit.UnitName);
            string sha256 = Convert.ToHexStringLower(SHA256.HashData(unit.Image));
            await store.WriteShardAsync(jobId, step, name, unit.Image);
            records.Add(new ShardRecord(stage, unit.UnitIndex, unit.UnitName, name, unit.Image.LongLength, sha256));
        }
        LogDurable(logger, this.GetPrimaryKeyString(), step, records.Sum(r => r.Bytes));
        return records;
    }

    [LoggerMessage(1, LogLevel.Debug, "Shard {Shard}: snapshot of step {Step} is durable ({Bytes} bytes)")]
    private static partial void LogDurable(ILogger logger, string shard, long step, long bytes);
}
