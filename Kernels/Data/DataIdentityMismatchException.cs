namespace Cluster.Kernels.Data;

/// <summary>This silo's copy of a data file differs from the one the job was pinned to; the message names both hashes.</summary>
public sealed class DataIdentityMismatchException : IOException
{
    public DataIdentityMismatchException(string source, string expectedSha256, DataIdentity actual)
        : base($"Data source '{source}' differs on this silo: the job expects sha256:{expectedSha256}, this silo's copy is sha256:{actual.Sha256} ({actual.Bytes} bytes). Give every silo the same file, or submit a new job for the new data.")
    {
        DataSource = source;
        ExpectedSha256 = expectedSha256;
        Actual = actual;
    }

    public string DataSource { get; }

    public string ExpectedSha256 { get; }

    public DataIdentity Actual { get; }
}
