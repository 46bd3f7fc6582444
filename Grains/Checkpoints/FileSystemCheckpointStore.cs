using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Kernels.Checkpoint;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cluster.Grains.Checkpoints;

/// <summary>
/// Checkpoints in a local (or mounted) directory: <c>&lt;root&gt;/&lt;jobId&gt;/step-&lt;step:D8&gt;/epoch-&lt;epoch:D8&gt;/&lt;shard&gt;</c>
/// and, as the commit, <c>…/manifest.json</c> beside them (checkpoints of earlier versions, straight in the step folder,
/// are still read). Every file is written to a temporary name, fsynced and renamed into place, so a crash leaves either
/// the old file or the new one; directories are fsynced so the renames survive a power loss.
/// </summary>
public sealed class FileSystemCheckpointStore : ICheckpointStore
{
    private readonly string _root;
    private readonly ILogger _logger;

    public FileSystemCheckpointStore(string rootDirectory, ILogger<FileSystemCheckpointStore>? logger = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(rootDirectory);
        _root = Path.GetFullPath(rootDirectory);
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    public string RootDirectory => _root;

    public string Description => $"file-system directory '{_root}'";

    public async Task WriteShardAsync(string jobId, long epoch, long step, string name, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        CheckpointNames.ValidateShard(jobId, epoch, step, name, forRead: false);
        cancellationToken.ThrowIfCancellationRequested();
        string directory = SetDirectory(jobId, epoch, step);
        // fsync blocks for milliseconds or more: keep it off the caller's thread (often a grain's scheduler).
        await Task.Run(() =>
        {
            EnsureDurableDirectory(directory);
            AtomicFile.Write(Path.Combine(directory, name), content.Span);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Streams the chunks into the shard file (atomically, as <see cref="WriteShardAsync"/>): any size.</summary>
    public async Task WriteShardChunksAsync(string jobId, long epoch, long step, string name, ChunkedBytes content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        CheckpointNames.ValidateShard(jobId, epoch, step, name, forRead: false);
        cancellationToken.ThrowIfCancellationRequested();
        string directory = SetDirectory(jobId, epoch, step);
        await Task.Run(() =>
        {
            EnsureDurableDirectory(directory);
            AtomicFile.Write(Path.Combine(directory, name), content);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads the shard file into chunks: any size.</summary>
    public async Task<ChunkedBytes> ReadShardChunksAsync(string jobId, long epoch, long step, string name, CancellationToken cancellationToken = default)
    {
        CheckpointNames.ValidateShard(jobId, epoch, step, name, forRead: true);
        cancellationToken.ThrowIfCancellationRequested();
        string path = Path.Combine(SetDirectory(jobId, epoch, step), name);
        try
        {
            await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
            return await ChunkedBytes.ReadAsync(file, file.Length, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new CheckpointCorruptException(path, "the shard file is missing", e);
        }
    }

    public async Task<byte[]> ReadShardAsync(string jobId, long epoch, long step, string name, CancellationToken cancellationToken = default)
    {
        CheckpointNames.ValidateShard(jobId, epoch, step, name, forRead: true);
        cancellationToken.ThrowIfCancellationRequested();
        string path = Path.Combine(SetDirectory(jobId, epoch, step), name);
        try
        {
            return await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new CheckpointCorruptException(path, "the shard file is missing", e);
        }
    }

    public async Task CommitManifestAsync(CheckpointManifest manifest, CancellationToken cancellationToken = default)
    {
        CheckpointNames.ValidateManifest(manifest);
        cancellationToken.ThrowIfCancellationRequested();
        string directory = SetDirectory(manifest.JobId, manifest.Epoch, manifest.Step);
        byte[] json = CheckpointManifestJson.Serialize(manifest);
        await Task.Run(() =>
        {
            CheckpointCommits.RequireShards(manifest,
                name => new FileInfo(Path.Combine(directory, name)) is { Exists: true } file ? file.Length : null,
                name => $"shard '{Path.Combine(directory, name)}'");
            CreateManifestOnce(manifest, Path.Combine(directory, CheckpointNames.ManifestName), json);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Invariant (fenced store): a manifest is written once — an exclusive create (fsynced temp file, then a rename
    /// that fails when the target exists), never an overwrite; and only into a shard set's directory that exists (its
    /// shards were just checked), never re-creating one a cleanup removed.
    /// </summary>
    private static void CreateManifestOnce(CheckpointManifest manifest, string path, byte[] json)
    {
        string directory = Path.GetDirectoryName(path)!;
        string temporary = Path.Combine(directory, $".manifest.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(json);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: false);
            AtomicFile.FlushDirectory(directory);
        }
        catch (DirectoryNotFoundException e)
        {
            throw new InvalidOperationException($"Cannot commit checkpoint {manifest.JobId}@{manifest.Step} (epoch {manifest.Epoch}): its shard set '{directory}' was deleted while committing.", e);
        }
        catch (IOException) when (File.Exists(path))
        {
            CheckpointCommits.RequireSameCheckpoint(manifest, File.ReadAllBytes(path), $"'{path}'");
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    public async Task<IReadOnlyList<CheckpointManifest>> ListManifestsAsync(string jobId, CancellationToken cancellationToken = default)
    {
        CheckpointNames.ValidateJobId(jobId);
        cancellationToken.ThrowIfCancellationRequested();
        var manifests = new List<CheckpointManifest>();
        foreach (var set in ListSets(jobId).Committed)
        {
            cancellationToken.ThrowIfCancellationRequested();
            string path = Path.Combine(SetDirectory(jobId, set.Epoch, set.Step), CheckpointNames.ManifestName);
            byte[] json;
            try
            {
                json = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                continue; // deleted while we listed
            }

            if (ListedManifest.Read(json, jobId, set, path, _logger) is { } manifest)
                manifests.Add(manifest);
        }
        return CheckpointCommits.Ordered(manifests);
    }

    public Task DeleteCheckpointAsync(CheckpointManifest manifest, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        CheckpointNames.ValidateJobId(manifest.JobId, nameof(manifest));
        cancellationToken.ThrowIfCancellationRequested();
        long epoch = CheckpointNames.ShardSetEpoch(manifest);
        string directory = SetDirectory(manifest.JobId, epoch, manifest.Step);
        if (!Directory.Exists(directory)) return Task.CompletedTask;
        // Uncommit durably before removing shards, so a crash in between never leaves a manifest without its shards.
        File.Delete(Path.Combine(directory, CheckpointNames.ManifestName));
        AtomicFile.FlushDirectory(directory);
        if (epoch == CheckpointNames.FlatEpoch) DeleteFlatFiles(directory);
        else DeleteDirectory(directory);
        return Task.CompletedTask;
    }

    public Task DeleteUncommittedAsync(string jobId, long beforeEpoch, long beforeStep, CancellationToken cancellationToken = default)
    {
        CheckpointNames.ValidateJobId(jobId);
        cancellationToken.ThrowIfCancellationRequested();
        foreach (var set in ListSets(jobId).UncommittedSets(beforeEpoch, beforeStep))
        {
            cancellationToken.ThrowIfCancellationRequested();
            string directory = SetDirectory(jobId, set.Epoch, set.Step);
            if (set.Epoch == CheckpointNames.FlatEpoch) DeleteFlatFiles(directory);
            else DeleteDirectory(directory);
        }
        return Task.CompletedTask;
    }

    private string JobDirectory(string jobId) => Path.Combine(_root, jobId);

    private string SetDirectory(string jobId, long epoch, long step) =>
        Path.Combine(_root, jobId, CheckpointNames.ShardSetFolder(epoch, step).TrimEnd('/').Replace('/', Path.DirectorySeparatorChar));

    /// <summary>The job's shard sets from the files under its directory (paths relative to it, '/'-separated).</summary>
    private ShardSetListing ListSets(string jobId)
    {
        var listing = new ShardSetListing("");
        string jobDirectory = JobDirectory(jobId);
        if (!Directory.Exists(jobDirectory)) return listing;
        try
        {
            foreach (string file in Directory.EnumerateFiles(jobDirectory, "*", SearchOption.AllDirectories))
            {
                string name = Path.GetFileName(file);
                if (name.StartsWith('.')) continue; // a temporary file of a write in progress
                listing.Add(Path.GetRelativePath(jobDirectory, file).Replace(Path.DirectorySeparatorChar, '/'));
            }
        }
        catch (DirectoryNotFoundException)
        {
            // a folder deleted while we listed: what was listed stands
        }
        return listing;
    }

    /// <summary>Creates the shard set's directory and fsyncs its parents, so the directory itself survives a power loss.</summary>
    private void EnsureDurableDirectory(string setDirectory)
    {
        if (Directory.Exists(setDirectory)) return;
        Directory.CreateDirectory(setDirectory);
        for (string? parent = Path.GetDirectoryName(setDirectory); parent is not null && parent.Length >= _root.Length; parent = Path.GetDirectoryName(parent))
            AtomicFile.FlushDirectory(parent);
    }

    /// <summary>The files straight in a legacy step folder (its flat shard set), not the epoch folders beside them; the folder too once empty.</summary>
    private static void DeleteFlatFiles(string stepDirectory)
    {
        if (!Directory.Exists(stepDirectory)) return;
        foreach (string file in Directory.EnumerateFiles(stepDirectory))
            File.Delete(file);
        AtomicFile.FlushDirectory(stepDirectory);
        TryDeleteEmpty(stepDirectory);
    }

    private static void DeleteDirectory(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            return; // deleted concurrently: the goal is reached
        }
        string stepDirectory = Path.GetDirectoryName(directory)!;
        AtomicFile.FlushDirectory(stepDirectory);
        TryDeleteEmpty(stepDirectory);
    }

    /// <summary>Removes a step folder left empty; one that another writer just filled stays.</summary>
    private static void TryDeleteEmpty(string stepDirectory)
    {
        try
        {
            if (Directory.EnumerateFileSystemEntries(stepDirectory).Any()) return;
            Directory.Delete(stepDirectory, recursive: false);
            AtomicFile.FlushDirectory(Path.GetDirectoryName(stepDirectory)!);
        }
        catch (IOException)
        {
            // not empty any more, or gone: either is fine
        }
    }
}
