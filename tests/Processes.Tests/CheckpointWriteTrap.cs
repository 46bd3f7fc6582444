using System.Text.RegularExpressions;

namespace Cluster.Processes.Tests;

/// <summary>
/// Kills a silo process in the middle of writing a checkpoint shard. The file-system store writes each shard to
/// <c>.&lt;name&gt;.&lt;pid&gt;.&lt;guid&gt;.tmp</c> and renames it when it is complete, so the moment such a file appears
/// (inotify) the writing process is known. It is frozen (SIGSTOP) at once; if the temporary file is still there, the
/// write is provably unfinished and the process is killed (SIGKILL); if the write already finished, the process is
/// continued and the next write is tried. A frozen moment is far shorter than failure detection, so misses are harmless.
/// </summary>
internal sealed partial class CheckpointWriteTrap : IDisposable
{
    private readonly FileSystemWatcher _watcher;
    private readonly long _minimumStep;
    private readonly Func<int, SiloProcess?> _victimOf;
    private readonly TaskCompletionSource<Catch> _sprung = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _gate = new();
    private int _misses;

    public CheckpointWriteTrap(string checkpointRoot, long minimumStep, Func<int, SiloProcess?> victimOf)
    {
        _minimumStep = minimumStep;
        _victimOf = victimOf;
        _watcher = new FileSystemWatcher(checkpointRoot)
        {
            IncludeSubdirectories = true,
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName,
            InternalBufferSize = 64 * 1024,
        };
        _watcher.Created += OnCreated;
        _watcher.EnableRaisingEvents = true;
    }

    /// <summary>The write that was cut short: by whom, which file, which step, whether its manifest existed, and when.</summary>
    public Task<Catch> Sprung => _sprung.Task;

    /// <summary>Writes that finished before their process could be frozen.</summary>
    public int Misses => Volatile.Read(ref _misses);

    private void OnCreated(object sender, FileSystemEventArgs e)
    {
        var name = TempShard().Match(Path.GetFileName(e.FullPath));
        // Shards are written in step-N/epoch-E/ (the fenced layout); step-N/ itself in checkpoints of earlier versions.
        string? directory = Path.GetDirectoryName(e.FullPath);
        if (EpochFolder().IsMatch(Path.GetFileName(directory) ?? "")) directory = Path.GetDirectoryName(directory);
        var folder = StepFolder().Match(Path.GetFileName(directory) ?? "");
        if (!name.Success || !folder.Success || _sprung.Task.IsCompleted) return;
        long step = long.Parse(folder.Groups["step"].Value, System.Globalization.CultureInfo.InvariantCulture);
        if (step < _minimumStep || name.Groups["shard"].Value == "manifest.json") return;
        if (_victimOf(int.Parse(name.Groups["pid"].Value, System.Globalization.CultureInfo.InvariantCulture)) is not { } victim) return;
        lock (_gate)
        {
            if (_sprung.Task.IsCompleted) return;
            try
            {
                victim.Suspend();
            }
            catch (InvalidOperationException)
            {
                return; // it is gone already
            }
            if (File.Exists(e.FullPath))
            {
                bool manifest = File.Exists(Path.Combine(Path.GetDirectoryName(e.FullPath)!, "manifest.json"));
                var at = DateTimeOffset.UtcNow;
                victim.Kill();
                _sprung.TrySetResult(new Catch(victim, e.FullPath, step, manifest, at));
            }
            else
            {
                victim.Resume();
                Interlocked.Increment(ref _misses);
            }
        }
    }

    public void Dispose() => _watcher.Dispose();

    [GeneratedRegex(@"^\.(?<shard>.+)\.(?<pid>\d+)\.[0-9a-f]{32}\.tmp$")]
    private static partial Regex TempShard();

    [GeneratedRegex(@"^step-(?<step>\d{8})$")]
    private static partial Regex StepFolder();

    [GeneratedRegex(@"^epoch-\d{8}$")]
    private static partial Regex EpochFolder();

    public sealed record Catch(SiloProcess Victim, string TempFile, long Step, bool ManifestExisted, DateTimeOffset At);
}
