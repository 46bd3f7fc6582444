using System.Diagnostics;

namespace Cluster.Grains.Tests;

/// <summary>What the fixtures that run a local tool as a child process (Azurite, s3rver, redis-server) share.</summary>
internal static class LocalTools
{
    /// <summary>The full path of <paramref name="tool"/> on PATH (with .exe/.cmd on Windows), or null.</summary>
    public static string? FindOnPath(string tool)
    {
        string[] names = OperatingSystem.IsWindows() ? [tool + ".exe", tool + ".cmd"] : [tool];
        foreach (string directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            foreach (string name in names)
            {
                string candidate = Path.Combine(directory, name);
                if (File.Exists(candidate)) return candidate;
            }
        }
        return null;
    }

    /// <summary>The checkout's root (the folder holding Cluster.sln) above the test's binaries; <paramref name="why"/> names what needs it.</summary>
    public static string RepositoryRoot(string why)
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Cluster.sln"))) return directory.FullName;
        }
        throw new InvalidOperationException($"No folder above '{AppContext.BaseDirectory}' contains Cluster.sln; cannot {why}.");
    }

    /// <summary>Kills <paramref name="process"/> and its children, waits up to 10 s for it, and disposes it.</summary>
    public static async Task StopAsync(Process process, string name, Action<string> report)
    {
        try
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await process.WaitForExitAsync(wait.Token);
        }
        catch (Exception e) when (e is InvalidOperationException or OperationCanceledException)
        {
            report($"Could not confirm that {name} (pid {process.Id}) exited: {e.Message}");
        }
        process.Dispose();
    }

    /// <summary>Deletes a tool's data folder, if there is one; a failure is reported, not thrown (the temp folder is cleaned eventually).</summary>
    public static void DeleteData(string? directory, string name, Action<string> report)
    {
        if (directory is null || !Directory.Exists(directory)) return;
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException e)
        {
            report($"Could not delete {name}'s data folder '{directory}': {e.Message}");
        }
    }
}
