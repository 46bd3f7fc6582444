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

    public static ByteTokenSource FromFile(string path) => new(File.ReadAllBytes(path), path);

    public void Read(long start, Span<long> destination)
    {
        var source = _bytes.AsSpan(checked((int)start), destination.Length);
        for (int i = 0; i < source.Length; i++) destination[i] = source[i];
    }
}
