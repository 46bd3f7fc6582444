namespace Cluster.Kernels.Data;

/// <summary>What a data file holds, as far as training cares: its size and the SHA-256 of its bytes (lower-case hex).</summary>
public sealed record DataIdentity(long Bytes, string Sha256)
{
    public override string ToString() => $"{Bytes} bytes, sha256:{Sha256}";
}
