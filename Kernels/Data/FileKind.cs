using System.Runtime.InteropServices;

namespace Cluster.Kernels.Data;

/// <summary>
/// What kind of file a path names, asked without opening it (opening a FIFO blocks, opening a device may start
/// reading it). On Linux it calls statx(2), whose layout is the same on every architecture; elsewhere it falls back
/// to what <see cref="FileInfo"/> tells.
/// </summary>
internal static partial class FileKind
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxType = 0x1;
    private const uint StatxSize = 0x200;
    private const int TypeMask = 0xF000;
    private const int RegularFile = 0x8000;

    /// <summary>(exists, is a regular file — not a link, directory, device, FIFO or socket —, size in bytes).</summary>
    public static (bool Exists, bool Regular, long Bytes) Of(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            var info = new FileInfo(path);
            return (info.Exists, info.Exists && info.LinkTarget is null, info.Exists ? info.Length : 0);
        }
        var buffer = new byte[256]; // struct statx is 256 bytes
        if (Statx(AtFdCwd, path, AtSymlinkNoFollow, StatxType | StatxSize, buffer) != 0)
            return (false, false, 0);
        int mode = MemoryMarshal.Read<ushort>(buffer.AsSpan(28)); // native byte order
        long bytes = (long)MemoryMarshal.Read<ulong>(buffer.AsSpan(40));
        return (true, (mode & TypeMask) == RegularFile, bytes);
    }

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int dirFd, string path, int flags, uint mask, [Out] byte[] buffer);
}
