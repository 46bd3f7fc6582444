using Cluster.Grains.Checkpoints;
using Orleans.Storage;

namespace Cluster.Grains.Jobs;

/// <summary>The loss history's sealed chunks: written per <see cref="LossChunkSize"/> steps, read back for a restore's history.</summary>
internal sealed partial class JobStateWriter
{
    /// <summary>Losses per sealed chunk record.</summary>
    public const int LossChunkSize = 128;

    private const string LossChunkStateName = "losses";

    /// <summary>
    /// What a checkpoint of the current step writes of the loss history: the losses since the last chunk sealed durably
    /// (at least the step's own), and the hash of the whole history. O(<see cref="LossChunkSize"/>) in the step count
    /// while chunks are being sealed; the chunks before the slice are what <see cref="EarlierLosses"/> reads back.
    /// </summary>
    public CheckpointLossSlice LossesForCheckpoint()
    {
        int from = Math.Min(_durableChunks * LossChunkSize, Math.Max(0, _losses.Count - 1));
        return new CheckpointLossSlice(from, _losses.GetRange(from, _losses.Count - from), _losses.Sha256());
    }

    /// <summary>
    /// The first <paramref name="count"/> losses of the job's loss log, for a restore that rebuilds a checkpoint's
    /// history (<see cref="CheckpointLosses.ReadAsync"/>): from memory, and the sealed chunks this activation no longer
    /// holds in memory from their records (a rewind to a step it has left); null when a record is missing.
    /// </summary>
    public async Task<double[]?> EarlierLosses(long count)
    {
        if (count <= _losses.Count) return [.. _losses.GetRange(0, (int)count)];
        int fromMemory = _losses.Count / LossChunkSize;
        var losses = _losses.GetRange(0, fromMemory * LossChunkSize);
        for (int i = fromMemory; losses.Count < count; i++)
        {
            var chunk = new GrainState<LossChunk>(new LossChunk());
            await storage.ReadStateAsync(LossChunkStateName, ChunkId(i), chunk);
            if (!chunk.RecordExists || chunk.State?.Losses.Count != LossChunkSize) return null;
            losses.AddRange(chunk.State.Losses);
        }
        return [.. losses.Take((int)count)];
    }

    /// <summary>
    /// Writes every complete chunk of losses not yet written, then puts the rest (the tail) in the state. Fenced: only
    /// once this activation's claim of its epoch is durable (until then the losses wait in the tail), and a chunk is
    /// written only over an older claim's or this claim's own, conditionally on the ETag read with it.
    /// </summary>
    private async Task SealLossChunks()
    {
        // The claim is asked per chunk: a new epoch claimed while a seal is in flight (the grain is reentrant) is not durable
        // yet, and a chunk under it could fence the activation that wins that epoch.
        // Once per seal (one in LossChunkSize steps): a stale activation learns here that the job moved on or was deleted
        // before it writes chunks no state will count. (A delete landing after this read still leaves such a chunk: older
        // than every later claim, it is written over.) The loop asks about the claim again after the read.
        if (_durableClaim == (State.Epoch, State.Owner) && _durableChunks < _losses.Count / LossChunkSize)
            await ReadStoredUnlessSuperseded();
        while (_durableClaim == (State.Epoch, State.Owner) && _durableChunks < _losses.Count / LossChunkSize)
        {
            int index = _durableChunks;
            long generation = _lossGeneration;
            var chunk = new GrainState<LossChunk>(new LossChunk
            {
                Losses = _losses.GetRange(index * LossChunkSize, LossChunkSize),
                Epoch = State.Epoch,
                Owner = State.Owner,
            });
            for (int attempt = 1; ; attempt++)
            {
                var stored = new GrainState<LossChunk>(new LossChunk());
                await storage.ReadStateAsync(LossChunkStateName, ChunkId(index), stored); // a rewound timeline may have written it before
                if (stored.RecordExists && stored.State is { } theirs && ClaimedByOther(theirs.Epoch, theirs.Owner))
                    throw FencedBy(theirs.Epoch, theirs.Owner);
                (chunk.ETag, chunk.RecordExists) = (stored.ETag, stored.RecordExists);
                ThrowIfFenced();
                try
                {
                    await storage.WriteStateAsync(LossChunkStateName, ChunkId(index), chunk);
                    break;
                }
                catch (Exception e) when (attempt < 3 && (e is InconsistentStateException || e.InnerException is InconsistentStateException))
                {
                    // Written under this activation since it read it: read again (a newer claim's chunk fences it).
                }
            }
            if (generation == _lossGeneration) _durableChunks = index + 1;
        }
        State.LossChunks = _durableChunks;
        State.LossTail = _losses.GetRange(_durableChunks * LossChunkSize, _losses.Count - _durableChunks * LossChunkSize);
        State.LossHistory = [];
    }

    private GrainId ChunkId(int index) => GrainId.Create("jobloss", $"{grainId.Key}/{index}");
}
