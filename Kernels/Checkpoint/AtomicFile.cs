using System.Runtime.InteropServices;

namespace Cluster.Kernels.Checkpoint;

/// <summary>Writes a file so that readers see either the old content or the whole new content, never a torn write.</summary>
public static partial class AtomicFile
{
    /// <summary>Writes to a temporary file beside the target, flushes it to disk, then renames it into place.</summary>
    public static void Write(string path, ReadOnlySpan<byte> content)
    {
        string full = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(directory);
        string temporary = Path.Combine(directory, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, full, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
        FlushDirectory(directory);
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
