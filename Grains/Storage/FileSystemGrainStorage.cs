using System.Security.Cryptography;
using System.Text;
using Cluster.Kernels.Checkpoint;
using Orleans.Runtime;
using Orleans.Storage;

namespace Cluster.Grains.Storage;

/// <summary>
/// Grain state as one file per grain under a root directory: the embedded default for state that must outlive a
/// silo (job grains). Writes are atomic and fsynced (temp file + rename); the ETag is a hash of the file, so a stale
/// writer — an activation that lost a race after a failover — gets <see cref="InconsistentStateException"/>.
/// Invariant: the ETag check and the write (or delete) are one atomic step across threads, instances and processes —
/// both happen under an exclusive lock on a <c>.lock</c> file beside the state (an advisory <c>flock</c> on Linux), so
/// of two writers that read the same version exactly one succeeds.
/// </summary>
public sealed class FileSystemGrainStorage(string name, string root, IGrainStorageSerializer serializer, TimeProvider? time = null) : IGrainStorage
{
    private const int MaxLockAttempts = 2000; // ≈ 100 s at 50 ms: a holder that long is stuck, not busy

    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public string Name => name;

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        string path = PathOf(stateName, grainId);
        if (!File.Exists(path))
        {
            grainState.RecordExists = false;
            grainState.ETag = null;
            return;
        }
        byte[] content = await File.ReadAllBytesAsync(path);
        try
        {
            grainState.State = serializer.Deserialize<T>(new BinaryData(content))!;
        }
        catch (Exception e)
        {
            throw new InvalidDataException($"Grain state file '{path}' of {grainId} cannot be read ({e.Message}); move it aside to start the grain afresh.", e);
        }
        grainState.RecordExists = true;
        grainState.ETag = ETagOf(content);
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        string path = PathOf(stateName, grainId);
        using (await Lock(path))
        {
            await CheckETag(path, grainState.ETag, grainId);
            byte[] content = serializer.Serialize(grainState.State).ToArray();
            AtomicFile.Write(path, content);
            grainState.ETag = ETagOf(content);
        }
        grainState.RecordExists = true;
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        string path = PathOf(stateName, grainId);
        using (await Lock(path))
        {
            await CheckETag(path, grainState.ETag, grainId);
            File.Delete(path);
        }
        grainState.ETag = null;
        grainState.RecordExists = false;
    }

    /// <summary>Takes the exclusive lock of one grain's state file, waiting while another writer (thread or process) holds it.</summary>
    private async Task<FileStream> Lock(string path)
    {
        string lockPath = Path.ChangeExtension(path, ".lock");
        Directory.CreateDirectory(Path.GetDirectoryName(lockPath)!);
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException e) when (attempt < MaxLockAttempts && e is not (DirectoryNotFoundException or PathTooLongException))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(50, attempt)), _time);
            }
        }
    }

    private static async Task CheckETag(string path, string? expected, GrainId grainId)
    {
        string? current = File.Exists(path) ? ETagOf(await File.ReadAllBytesAsync(path)) : null;
        if (current != expected)
            throw new InconsistentStateException($"State of {grainId} in '{path}' changed since it was read (another activation wrote it).", current, expected, null);
    }

    private string PathOf(string stateName, GrainId grainId) =>
        Path.Combine(root, Safe(name), Safe(stateName), Safe(grainId.ToString()) + ".state");

    private static string ETagOf(byte[] content) => Convert.ToHexStringLower(SHA256.HashData(content).AsSpan(0, 12));

    /// <summary>A file-name-safe, reversible spelling of any string: unsafe characters become _XX (UTF-8 hex).</summary>
    private static string Safe(string value)
    {
        var text = new StringBuilder(value.Length);
        foreach (byte b in Encoding.UTF8.GetBytes(value))
        {
            char c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '.') text.Append(c);
            else text.Append('_').Append(b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
        }
        return text.ToString();
    }
}
