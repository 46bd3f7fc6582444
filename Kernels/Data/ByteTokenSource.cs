namespace Cluster.Kernels.Data;

/// <summary>Byte-level tokens (vocabulary 256): any file, read as raw bytes.</summary>
public sealed class ByteTokenSource : ITokenSource
{
    private readonly byte[] _bytes;

    public ByteTokenSource(byte[] bytes, string name)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        _bytes = bytes;
        Name = name;
    }

    public string Name { get; }

    public long Length => _bytes.LongLength;

    /// <summary>Opens a file a local tool names (see <see cref="DataSourcePolicy.Local"/>).</summary>
    public static ByteTokenSource FromFile(string path) => Open(DataSourcePolicy.Local.Check(path)).Source;

    internal static (ByteTokenSource Source, DataIdentity Identity) Open(DataFile file)
    {
        var (bytes, identity) = DataFileReader.ReadBytes(file);
        return (new ByteTokenSource(bytes, file.Source), identity);
    }

    public void Read(long start, Span<long> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(start, Length - destination.Length);
        var source = _bytes.AsSpan(checked((int)start), destination.Length);
        for (int i = 0; i < source.Length; i++) destination[i] = source[i];
    }
}
