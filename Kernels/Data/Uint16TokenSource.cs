using System.IO.MemoryMappedFiles;

namespace Cluster.Kernels.Data;

/// <summary>
/// A nanoGPT-style token file: a flat array of little-endian uint16 token ids with no header (e.g. train.bin from
/// nanoGPT's prepare.py). Memory-mapped, so files larger than RAM work.
/// </summary>
public sealed class Uint16TokenSource : ITokenSource, IDisposable
{
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;

    private Uint16TokenSource(string path, MemoryMappedFile file, MemoryMappedViewAccessor view, long length)
    {
        Name = path;
        _file = file;
        _view = view;
        Length = length;
    }

    public string Name { get; }

    public long Length { get; }

    public static Uint16TokenSource Open(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
            throw new FileNotFoundException($"Token file '{path}' does not exist.", path);
        if (info.Length == 0 || info.Length % 2 != 0)
            throw new InvalidDataException($"Token file '{path}' is {info.Length} bytes: a uint16 token file holds a positive, even number of bytes (2 per token). Is it a text file? Give text files a .txt extension to read them as bytes.");
        var file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, mapName: null, 0, MemoryMappedFileAccess.Read);
        var view = file.CreateViewAccessor(0, info.Length, MemoryMappedFileAccess.Read);
        return new Uint16TokenSource(path, file, view, info.Length / 2);
    }

    public void Read(long start, Span<long> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(start + destination.Length, Length);
        Span<ushort> buffer = destination.Length <= 4096 ? stackalloc ushort[destination.Length] : new ushort[destination.Length];
        for (int i = 0; i < buffer.Length; i++) buffer[i] = _view.ReadUInt16((start + i) * 2);
        for (int i = 0; i < buffer.Length; i++) destination[i] = buffer[i];
    }

    public void Dispose()
    {
        _view.Dispose();
        _file.Dispose();
    }
}
