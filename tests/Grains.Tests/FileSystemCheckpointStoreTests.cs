using System.Text;
using Cluster.Grains.Checkpoints;
using Microsoft.Extensions.Logging;

namespace Cluster.Grains.Tests;

/// <summary>The checkpoint contract on the local file system, plus what only a directory layout can show.</summary>
public sealed class FileSystemCheckpointStoreTests : CheckpointStoreContract
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"ckpt-store-{Guid.NewGuid():N}");
    private readonly RecordingLogger<FileSystemCheckpointStore> _logger = new();

    protected override Task<ICheckpointStore> CreateStoreAsync() =>
        Task.FromResult<ICheckpointStore>(new FileSystemCheckpointStore(_root, _logger));

    protected override Task DisposeStoreAsync()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
        return Task.CompletedTask;
    }

    protected override async Task WriteRawAsync(string relativeName, byte[] content)
    {
        string path = Path.Combine(_root, relativeName);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllBytesAsync(path, content);
    }

    [Fact]
    public async Task Files_are_laid_out_by_job_step_and_epoch_with_an_indented_camelCase_manifest()
    {
        string job = NewJobId();
        var manifest = await WriteCheckpointAsync(job, 7);

        Assert.Equal(["epoch-00000003"], Directory.EnumerateFileSystemEntries(Path.Combine(_root, job, "step-00000007")).Select(Path.GetFileName));
        string stepDirectory = Path.Combine(_root, job, "step-00000007", "epoch-00000003");
        Assert.Equal(
            ["block.0.safetensors", "embed.safetensors", "head.safetensors", "manifest.json"],
            Directory.EnumerateFiles(stepDirectory).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(await Store.ReadShardAsync(job, Epoch, 7, "head.safetensors"), await File.ReadAllBytesAsync(Path.Combine(stepDirectory, "head.safetensors")));

        string json = await File.ReadAllTextAsync(Path.Combine(stepDirectory, "manifest.json"));
        Assert.StartsWith("{\n  \"jobId\": ", json.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains("\"lossHistory\": [", json, StringComparison.Ordinal);
        Assert.Contains("\"unitName\": \"block.0\"", json, StringComparison.Ordinal);
        AssertManifestEqual(manifest, CheckpointManifestJson.Deserialize(Encoding.UTF8.GetBytes(json)));
        Assert.Contains(_root, Store.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_corrupt_manifest_is_skipped_and_reported()
    {
        string job = NewJobId();
        var good = await WriteCheckpointAsync(job, 1);
        await WriteCheckpointAsync(job, 2);
        await WriteCheckpointAsync(job, 3);
        await WriteCheckpointAsync(job, 4);
        string Manifest(int step) => Path.Combine(_root, job, $"step-{step:D8}", "epoch-00000003", "manifest.json");
        await File.WriteAllTextAsync(Manifest(2), "{ \"jobId\": \"torn");            // truncated
        await File.WriteAllBytesAsync(Manifest(3), []);                               // empty
        string json = await File.ReadAllTextAsync(Manifest(4));
        await File.WriteAllTextAsync(Manifest(4), json.Replace("\"dataSource\"", "\"other\"", StringComparison.Ordinal)); // a required field missing

        AssertManifestEqual(good, Assert.Single(await Store.ListManifestsAsync(job)));

        var warnings = _logger.Entries.Where(e => e.Level == LogLevel.Warning).Select(e => e.Message).ToList();
        Assert.Equal(3, warnings.Count);
        foreach (int step in new[] { 2, 3, 4 })
            Assert.Contains(warnings, w => w.Contains(Manifest(step), StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_manifest_in_a_folder_that_is_not_its_own_is_skipped_and_reported()
    {
        string job = NewJobId();
        var good = await WriteCheckpointAsync(job, 1);
        string original = Path.Combine(_root, job, "step-00000001", "epoch-00000003", "manifest.json");
        // Another step's folder (flat, as earlier versions wrote), and another epoch's folder of the same step.
        string[] misplaced = [Path.Combine(_root, job, "step-00000005"), Path.Combine(_root, job, "step-00000001", "epoch-00000009")];
        foreach (string folder in misplaced)
        {
            Directory.CreateDirectory(folder);
            File.Copy(original, Path.Combine(folder, "manifest.json"));
        }
        // Folders not in canonical form are not checkpoints at all.
        foreach (string folder in new[] { Path.Combine(_root, job, "step-1"), Path.Combine(_root, job, "step-00000002", "epoch-3") })
        {
            Directory.CreateDirectory(folder);
            File.Copy(original, Path.Combine(folder, "manifest.json"));
        }

        AssertManifestEqual(good, Assert.Single(await Store.ListManifestsAsync(job)));
        foreach (string folder in misplaced)
            Assert.Contains(_logger.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains(folder, StringComparison.Ordinal));
    }

    [Fact]
    public async Task No_temporary_files_are_left_after_writes()
    {
        string job = NewJobId();
        await WriteCheckpointAsync(job, 1);
        await WriteCheckpointAsync(job, 2, commit: false);
        await Store.WriteShardAsync(job, Epoch, 1, "embed.safetensors", RandomBytes(2_000, seed: 9));
        await Store.WriteShardAsync(job, Epoch, 2, "embed.safetensors", RandomBytes(3_000, seed: 10));

        var files = Directory.EnumerateFiles(_root, "*", SearchOption.AllDirectories).Select(Path.GetFileName).ToList();
        Assert.Equal(7, files.Count); // 2 × 3 shards + 1 manifest
        Assert.DoesNotContain(files, f => f!.StartsWith('.') || f.EndsWith(".tmp", StringComparison.Ordinal));
    }
}
