using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Kernels.Checkpoint;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cluster.Grains.Checkpoints;

/// <summary>
/// Checkpoints in a local (or mounted) directory: <c>&lt;root&gt;/&lt;jobId&gt;/step-&lt;step:D8&gt;/&lt;shard&gt;</c> and, as
/// the commit, <c>…/manifest.json</c>. Every file is written to a temporary name, fsynced and renamed into place, so a
/// crash leaves either the old file or the new one; directories are fsynced so the renames survive a power loss.
/// </summary>
public sealed partial class FileSystemCheckpointStore : ICheckpointStore
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

    public async Task WriteShardAsync(string jobId, long step, string name, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        CheckpointNames.ValidateJobId(jobId);
        CheckpointNames.ValidateStep(step);
        CheckpointNames.ValidateShardName(name);
        cancellationToken.ThrowIfCancellationRequested();
        string directory = StepDirectory(jobId, step);
        // fsync blocks for milliseconds or more: keep it off the caller's thread (often a grain's scheduler).
        await Task.Run(() =>
        {
            EnsureDurableDirectory(directory);
            AtomicFile.Write(Path.Combine(directory, name), content.Span);
        }, cancellationToken).ConfigureAwait(false);
    }

    public async Task<byte[]> ReadShardAsync(string jobId, long step, string name, CancellationToken cancellationToken = default)
    {
        CheckpointNames.ValidateJobId(jobId);
        CheckpointNames.ValidateStep(step);
        CheckpointNames.ValidateShardName(name);
        cancellationToken.ThrowIfCancellationRequested();
        string path = Path.Combine(StepDirectory(jobId, step), name);
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
        string directory = StepDirectory(manifest.JobId, manifest.Step);
        byte[] json = CheckpointManifestJson.Serialize(manifest);
        await Task.Run(() =>
        {
            // A manifest naming shards that are not there would be a checkpoint restore cannot use: refuse to commit it.
            foreach (var shard in manifest.Shards)
            {
                var file = new FileInfo(Path.Combine(directory, shard.Name));
                if (!file.Exists)
                    throw new InvalidOperationException($"Cannot commit checkpoint {manifest.JobId}@{manifest.Step}: shard '{file.FullName}' is missing.");
                if (file.Length != shard.Bytes)
                    throw new InvalidOperationException(
                        $"Cannot commit checkpoint {manifest.JobId}@{manifest.Step}: shard '{file.FullName}' has {file.Length} bytes, the manifest says {shard.Bytes}.");
            }
            EnsureDurableDirectory(directory);
            CreateManifestOnce(manifest, Path.Combine(directory, CheckpointNames.ManifestName), json);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Invariant (fenced store): a manifest is written once — an exclusive create (fsynced temp file, then a rename
    /// that fails when the target exists), never an overwrite. A second commit of the same step succeeds only when
    /// the committed manifest names the same shards with the same hashes (a retried commit, or a replay of the same
    /// deterministic trajectory); anything else is refused, naming the epoch that committed first.
    /// </summary>
    private static void CreateManifestOnce(CheckpointManifest manifest, string path, byte[] json)
    {
        string temporary = Path.Combine(Path.GetDirectoryName(path)!, $".manifest.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(json);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: false);
            AtomicFile.FlushDirectory(Path.GetDirectoryName(path)!);
        }
        catch (IOException) when (File.Exists(path))
        {
            File.Delete(temporary);
            var existing = CheckpointManifestJson.Deserialize(File.ReadAllBytes(path));
            if (!CheckpointNames.SameShards(existing, manifest))
                throw new InvalidOperationException(
                    $"Cannot commit checkpoint {manifest.JobId}@{manifest.Step} (epoch {manifest.Epoch}): a different manifest, committed by epoch {existing.Epoch}, " +
                    $"is already at '{path}'; a manifest is written once.");
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
        foreach (var (step, directory) in StepDirectories(jobId))
        {
            cancellationToken.ThrowIfCancellationRequested();
            string path = Path.Combine(directory, CheckpointNames.ManifestName);
            byte[] json;
            try
            {
                json = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                continue; // uncommitted, or deleted while we listed
            }

            if (ListedManifest.Read(json, jobId, step, path, _logger) is { } manifest)
                manifests.Add(manifest);
        }
        manifests.Sort((a, b) => a.Step.CompareTo(b.Step));
        return manifests;
    }

    public Task DeleteCheckpointAsync(string jobId, long step, CancellationToken cancellationToken = default)
    {
        CheckpointNames.ValidateJobId(jobId);
        CheckpointNames.ValidateStep(step);
        cancellationToken.ThrowIfCancellationRequested();
        string directory = StepDirectory(jobId, step);
        if (!Directory.Exists(directory)) return Task.CompletedTask;
        // Uncommit durably before removing shards, so a crash in between never leaves a manifest without its shards.
        File.Delete(Path.Combine(directory, CheckpointNames.ManifestName));
        AtomicFile.FlushDirectory(directory);
        DeleteStepDirectory(directory);
        return Task.CompletedTask;
    }

    public Task DeleteUncommittedAsync(string jobId, IReadOnlySet<long> keepSteps, CancellationToken cancellationToken = default)
    {
        CheckpointNames.ValidateJobId(jobId);
        ArgumentNullException.ThrowIfNull(keepSteps);
        cancellationToken.ThrowIfCancellationRequested();
        foreach (var (step, directory) in StepDirectories(jobId))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (keepSteps.Contains(step) || File.Exists(Path.Combine(directory, CheckpointNames.ManifestName))) continue;
            DeleteStepDirectory(directory);
        }
        return Task.CompletedTask;
    }

    private string JobDirectory(string jobId) => Path.Combine(_root, jobId);

    private string StepDirectory(string jobId, long step) => Path.Combine(_root, jobId, CheckpointNames.StepFolder(step));

    private IEnumerable<(long Step, string Directory)> StepDirectories(string jobId)
    {
        string jobDirectory = JobDirectory(jobId);
        if (!Directory.Exists(jobDirectory)) yield break;
        foreach (string directory in Directory.EnumerateDirectories(jobDirectory))
        {
            if (CheckpointNames.TryParseStepFolder(Path.GetFileName(directory), out long step))
                yield return (step, directory);
        }
    }

    /// <summary>Creates the step directory and fsyncs its parents, so the directory itself survives a power loss.</summary>
    private void EnsureDurableDirectory(string stepDirectory)
    {
        if (Directory.Exists(stepDirectory)) return;
        Directory.CreateDirectory(stepDirectory);
        AtomicFile.FlushDirectory(Path.GetDirectoryName(stepDirectory)!);
        AtomicFile.FlushDirectory(_root);
    }

    private static void DeleteStepDirectory(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            return; // deleted concurrently: the goal is reached
        }
        AtomicFile.FlushDirectory(Path.GetDirectoryName(directory)!);
    }
}
