using System.Buffers.Binary;
using System.Collections;
using System.Security.Cryptography;

namespace Cluster.Grains.Jobs;

/// <summary>
/// A job's step losses in memory, in order, with a running SHA-256 of their bytes (little-endian IEEE doubles, the
/// encoding of <see cref="Checkpoints.CheckpointLosses"/>). Invariant: <see cref="Sha256"/> is always the hash of
/// exactly the losses held, so a checkpoint can name the hash of the whole history in O(1) in the step count (it writes
/// only the losses since the last sealed loss chunk; a restore rebuilds the rest and checks it against that hash).
/// Appending costs O(1); a truncation (a restore to an earlier step, rare) rehashes what is left.
/// </summary>
internal sealed class LossHistory : IReadOnlyList<double>
{
    private readonly List<double> _losses = [];
    private IncrementalHash _digest = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    public int Count => _losses.Count;

    public double this[int index] => _losses[index];

    public void Add(double loss)
    {
        _losses.Add(loss);
        Append(loss);
    }

    public void AddRange(IEnumerable<double> losses)
    {
        int start = _losses.Count;
        _losses.AddRange(losses);
        AppendFrom(start);
    }

    public void Clear() => Truncate(0);

    /// <summary>Keeps the first <paramref name="count"/> losses.</summary>
    public void Truncate(int count)
    {
        if (count >= _losses.Count) return;
        _losses.RemoveRange(count, _losses.Count - count);
        _digest.Dispose();
        _digest = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        AppendFrom(0);
    }

    public List<double> GetRange(int index, int count) => _losses.GetRange(index, count);

    /// <summary>SHA-256 (lower-case hex) of the bytes of every loss held.</summary>
    public string Sha256() => Convert.ToHexStringLower(_digest.GetCurrentHash());

    public IEnumerator<double> GetEnumerator() => _losses.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Hashes losses <paramref name="start"/> … Count-1, a block of them at a time.</summary>
    private void AppendFrom(int start)
    {
        const int Block = 512;
        Span<byte> bytes = stackalloc byte[Block * sizeof(double)];
        for (int i = start; i < _losses.Count; i += Block)
        {
            int n = Math.Min(Block, _losses.Count - i);
            for (int j = 0; j < n; j++)
                BinaryPrimitives.WriteInt64LittleEndian(bytes[(j * sizeof(double))..], BitConverter.DoubleToInt64Bits(_losses[i + j]));
            _digest.AppendData(bytes[..(n * sizeof(double))]);
        }
    }

    private void Append(double loss)
    {
        Span<byte> bytes = stackalloc byte[sizeof(double)];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, BitConverter.DoubleToInt64Bits(loss));
        _digest.AppendData(bytes);
    }
}
