using System.Diagnostics;
using System.Globalization;

namespace Cluster.Grains.Nodes;

/// <summary>
/// This process's resident memory, for the health a CPU node reports with every heartbeat (a CUDA node reports its
/// device's memory instead). On Linux it reads <c>/proc/self/statm</c>, one short line: <see cref="Process.WorkingSet64"/>
/// there builds a whole process snapshot, reading the <c>stat</c> file of every thread of the process — a hundred and
/// more in a silo — which at a heartbeat every 250 ms per node was ≈ 1 % of a 2-core machine's CPU in a 3-silo
/// profile (2026-12-04), taken from the compute. Elsewhere, or if the file cannot be read, the process's working set.
/// </summary>
internal static class ResidentMemory
{
    private const string Statm = "/proc/self/statm";

    public static long Bytes()
    {
        if (OperatingSystem.IsLinux() && FromStatm(ReadStatm()) is { } bytes) return bytes;
        using var self = Process.GetCurrentProcess();
        return self.WorkingSet64;
    }

    /// <summary>The resident bytes in a <c>statm</c> line ("size resident shared text lib data dt", in pages), or null if it is not one.</summary>
    internal static long? FromStatm(string? line)
    {
        if (line is null) return null;
        string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return fields.Length >= 2 && long.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out long pages)
            ? pages * Environment.SystemPageSize
            : null;
    }

    private static string? ReadStatm()
    {
        try
        {
            return File.ReadAllText(Statm);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
