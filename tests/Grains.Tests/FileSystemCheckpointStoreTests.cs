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

    [Fact]
    public async Task A_manifest_is_written_once_a_retry_of_the_same_checkpoint_succeeds_and_a_different_one_is_refused()
    {
        string job = NewJobId();
        var first = await WriteCheckpointAsync(job, 10);

        // The same checkpoint again (a retried commit whose reply was lost, or a replay by a later epoch): accepted, nothing replaced.
        await Store.CommitManifestAsync(first with { Epoch = 4, CreatedAt = first.CreatedAt.AddMinutes(1) });
        AssertManifestEqual(first, Assert.Single(await Store.ListManifestsAsync(job)));

        // Another writer's checkpoint of the same step (a stale activation in a split brain): refused, the first stays.
        var other = first with { Epoch = 2, Shards = [.. first.Shards.Select(r => r with { Sha256 = new string('0', 64) })] };
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => Store.CommitManifestAsync(other));
        Assert.Contains("written once", refused.Message, StringComparison.Ordinal);
        Assert.Contains("epoch 3", refused.Message, StringComparison.Ordinal);
        AssertManifestEqual(first, Assert.Single(await Store.ListManifestsAsync(job)));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_root, job, "step-00000010"), "*.tmp", SearchOption.AllDirectories)
            .Concat(Directory.EnumerateFiles(Path.Combine(_root, job, "step-00000010"), ".manifest*")));
    }

    [Fact]
    public async Task Files_are_laid_out_by_job_and_step_with_an_indented_camelCase_manifest()
    {
        string job = NewJobId();
        var manifest = await WriteCheckpointAsync(job, 7);

        string stepDirectory = Path.Combine(_root, job, "step-00000007");
        Assert.Equal(
            ["block.0.safetensors", "embed.safetensors", "head.safetensors", "manifest.json"],
            Directory.EnumerateFiles(stepDirectory).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(await Store.ReadShardAsync(job, 7, "head.safetensors"), await File.ReadAllBytesAsync(Path.Combine(stepDirectory, "head.safetensors")));

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
        string Manifest(int step) => Path.Combine(_root, job, $"step-{step:D8}", "manifest.json");
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
        string misplaced = Path.Combine(_root, job, "step-00000005");
        Directory.CreateDirectory(misplaced);
        File.Copy(Path.Combine(_root, job, "step-00000001", "manifest.json"), Path.Combine(misplaced, "manifest.json"));
        // A folder not in canonical step form is not a checkpoint at all.
        Directory.CreateDirectory(Path.Combine(_root, job, "step-1"));
        File.Copy(Path.Combine(_root, job, "step-00000001", "manifest.json"), Path.Combine(_root, job, "step-1", "manifest.json"));

        AssertManifestEqual(good, Assert.Single(await Store.ListManifestsAsync(job)));
        Assert.Contains(_logger.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains(misplaced, StringComparison.Ordinal));
    }

    [Fact]
    public async Task No_temporary_files_are_left_after_writes()
    {
        string job = NewJobId();
        await WriteCheckpointAsync(job, 1);
        await WriteCheckpointAsync(job, 2, commit: false);
        await Store.WriteShardAsync(job, 1, "embed.safetensors", RandomBytes(2_000, seed: 9));
        await Store.WriteShardAsync(job, 2, "embed.safetensors", RandomBytes(3_000, seed: 10));

        var files = Directory.EnumerateFiles(_root, "*", SearchOption.AllDirectories).Select(Path.GetFileName).ToList();
        Assert.Equal(7, files.Count); // 2 × 3 shards + 1 manifest
        Assert.DoesNotContain(files, f => f!.StartsWith('.') || f.EndsWith(".tmp", StringComparison.Ordinal));
    }
}
