namespace Cluster.Kernels.Data;

/// <summary>
/// A nanoGPT-style token file: a flat array of little-endian uint16 token ids with no header (e.g. train.bin from
/// nanoGPT's prepare.py). Held in memory (at most <see cref="DataSourcePolicy.MaxBytes"/>), so rewriting the file
/// under a running job cannot touch the tokens it trains on.
/// </summary>
public sealed class Uint16TokenSource : ITokenSource
{
    private readonly ushort[] _tokens;

    public Uint16TokenSource(ushort[] tokens, string name)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        _tokens = tokens;
        Name = name;
    }

    public string Name { get; }

    public long Length => _tokens.LongLength;

    /// <summary>Opens a token file a local tool names (see <see cref="DataSourcePolicy.Local"/>).</summary>
    public static Uint16TokenSource Open(string path) => Open(DataSourcePolicy.Local.Check(path)).Source;

    internal static (Uint16TokenSource Source, DataIdentity Identity) Open(DataFile file)
    {
        var (tokens, identity) = DataFileReader.ReadUInt16(file);
        return (new Uint16TokenSource(tokens, file.Source), identity);
    }

    public void Read(long start, Span<long> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(start, Length - destination.Length);
        var source = _tokens.AsSpan(checked((int)start), destination.Length);
        for (int i = 0; i < source.Length; i++) destination[i] = source[i];
    }
}
