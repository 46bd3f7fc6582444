using System.Diagnostics;

namespace Cluster.Bench;

/// <summary>Runs this benchmark program again as a child process and returns the fields of its tagged result line.</summary>
internal static class SelfProcess
{
    public static async Task<string[]> RunAsync(string arguments, string tag)
    {
        string program = Environment.ProcessPath ?? "dotnet";
        string self = typeof(SelfProcess).Assembly.Location;
        var start = new ProcessStartInfo(program)
        {
            Arguments = Path.GetFileNameWithoutExtension(program) == "dotnet" ? $"\"{self}\" {arguments}" : arguments,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {program}.");
        var stderr = process.StandardError.ReadToEndAsync();
        string? result = null;
        while (await process.StandardOutput.ReadLineAsync() is { } line)
            if (line.StartsWith(tag, StringComparison.Ordinal)) result = line;
        await process.WaitForExitAsync();
        if (process.ExitCode != 0 || result is null)
            throw new InvalidOperationException($"'{arguments}' failed (exit {process.ExitCode}): {(await stderr).Trim()}");
        return result.Split(' ', StringSplitOptions.RemoveEmptyEntries);
    }
}
