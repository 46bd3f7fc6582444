namespace Cluster.Kernels.Data;

/// <summary>A read-only sequence of token ids (a corpus).</summary>
public interface ITokenSource
{
    /// <summary>Name for messages (a path or "synthetic(seed)").</summary>
    string Name { get; }

    /// <summary>Number of tokens.</summary>
    long Length { get; }

    /// <summary>Copies tokens [start, start + destination.Length) into <paramref name="destination"/>.</summary>
    void Read(long start, Span<long> destination);
}
