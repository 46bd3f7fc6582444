using System.Runtime.InteropServices;

namespace Cluster.Kernels.Checkpoint;

/// <summary>Writes a file so that readers see either the old content or the whole new content, never a torn write.</summary>
public static partial class AtomicFile
{
    /// <summary>Writes to a temporary file beside the target, flushes it to disk, then renames it into place.</summary>
    public static void Write(string path, ReadOnlySpan<byte> content)
    {
        var (full, temporary) = Temporary(path);
        try
        {
            using (var stream = Create(temporary))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: true);
            }
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
        Commit(temporary, full);
    }

    /// <summary>As <see cref="Write(string, ReadOnlySpan{byte})"/>, for content held in chunks (of any total size).</summary>
    public static void Write(string path, ChunkedBytes content)
    {
        ArgumentNullException.ThrowIfNull(content);
        var (full, temporary) = Temporary(path);
        try
        {
            using (var stream = Create(temporary))
            {
                foreach (var chunk in content.Chunks) stream.Write(chunk);
                stream.Flush(flushToDisk: true);
            }
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
        Commit(temporary, full);
    }

    private static (string Full, string Temporary) Temporary(string path)
    {
        string full = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(directory);
        return (full, Path.Combine(directory, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp"));
    }

    private static FileStream Create(string temporary) => new(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);

    private static void Commit(string temporary, string full)
    {
        try
        {
            File.Move(temporary, full, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
        FlushDirectory(Path.GetDirectoryName(full)!);
    }

    /// <summary>fsyncs a directory so a rename inside it survives a power loss (best effort; skipped where unsupported).</summary>
    public static void FlushDirectory(string directory)
    {
        if (OperatingSystem.IsWindows()) return;
        int fd = NativeMethods.Open(directory, NativeMethods.ReadOnly | NativeMethods.Directory);
        if (fd < 0) return; // some file systems refuse to open a directory; the rename itself is still atomic there
        _ = NativeMethods.Fsync(fd);
        _ = NativeMethods.Close(fd);
    }

    private static partial class NativeMethods
    {
        public const int ReadOnly = 0;
        public const int Directory = 0x10000; // O_DIRECTORY on Linux

        [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8)]
        public static partial int Open(string path, int flags);

        [LibraryImport("libc", EntryPoint = "fsync")]
        public static partial int Fsync(int fd);

        [LibraryImport("libc", EntryPoint = "close")]
        public static partial int Close(int fd);
    }
}
