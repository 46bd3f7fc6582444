using Cluster.Kernels.Model;

namespace Cluster.Kernels.Data;

/// <summary>
/// Draws training windows from a token source. The batch for (step, replica, micro-batch) is a pure function of
/// (data seed, step, global micro-batch index) — no cursor, no RNG state — so a run resumed at step k sees exactly the
/// batches an uninterrupted run would, and a global batch is the same whatever the replica split.
/// </summary>
public sealed class BatchSampler
{
    private readonly ITokenSource _source;

    public BatchSampler(ITokenSource source, int contextLength, int microBatchSize, long dataSeed, int vocabSize)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfLessThan(contextLength, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(microBatchSize, 1);
        if (source.Length < contextLength + 1)
            throw new ArgumentException($"Corpus '{source.Name}' has {source.Length} tokens, fewer than context length + 1 = {contextLength + 1}: use a larger corpus or a shorter context.", nameof(source));
        _source = source;
        ContextLength = contextLength;
        MicroBatchSize = microBatchSize;
        DataSeed = dataSeed;
        VocabSize = vocabSize;
    }

    public int ContextLength { get; }

    public int MicroBatchSize { get; }

    public long DataSeed { get; }

    public int VocabSize { get; }

    /// <summary>Tokens per micro-batch.</summary>
    public int TokensPerMicroBatch => ContextLength * MicroBatchSize;

    /// <summary>The micro-batch of a replica: global index = replica × micro-batches per replica + micro-batch.</summary>
    public MicroBatch Sample(long step, int replica, int microBatch, int microBatchesPerReplica) =>
        Sample(step, checked(replica * microBatchesPerReplica + microBatch));

    /// <summary>The <paramref name="globalMicroBatch"/>-th micro-batch of step <paramref name="step"/>.</summary>
    public MicroBatch Sample(long step, int globalMicroBatch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        ArgumentOutOfRangeException.ThrowIfNegative(globalMicroBatch);
        int t = ContextLength;
        var inputs = new long[MicroBatchSize * t];
        var targets = new long[MicroBatchSize * t];
        Span<long> window = t + 1 <= 8192 ? stackalloc long[t + 1] : new long[t + 1];
        ulong positions = (ulong)(_source.Length - t);
        for (int row = 0; row < MicroBatchSize; row++)
        {
            long start = (long)(SeedMixer.Combine(DataSeed, step, globalMicroBatch, row) % positions);
            _source.Read(start, window);
            foreach (long token in window)
                if ((ulong)token >= (ulong)VocabSize)
                    throw new InvalidDataException($"Corpus '{_source.Name}' holds token ids outside the model's vocabulary of {VocabSize}: raise VocabSize or use a matching tokenizer."); // never the id or its offset: messages must not echo file content
            window[..t].CopyTo(inputs.AsSpan(row * t, t));
            window[1..].CopyTo(targets.AsSpan(row * t, t));
        }
        return new MicroBatch(inputs, targets, MicroBatchSize, t);
    }
}
