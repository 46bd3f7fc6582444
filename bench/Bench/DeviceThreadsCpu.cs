using System.Globalization;

namespace Cluster.Bench;

/// <summary>
/// CPU time of this process's device worker threads (named <c>device …</c>: one per node, where every forward, backward,
/// optimizer step and snapshot copy runs), read from <c>/proc/self/task/*/stat</c> (user + system, in clock ticks of
/// 10 ms). Set against the process's CPU time it tells the compute's own cost from everything else (messaging, encoding
/// and sending snapshots, the runtime): when snapshots make the device threads themselves use more CPU for the same
/// steps, the cost is the compute slowing down beside them (caches, memory bandwidth), not work of their own.
/// 0 where <c>/proc</c> is not there (not Linux).
/// </summary>
internal static class DeviceThreadsCpu
{
    private const double MsPerTick = 10; // USER_HZ is 100 on Linux

    public static double Ms()
    {
        const string tasks = "/proc/self/task";
        if (!Directory.Exists(tasks)) return 0;
        double ms = 0;
        foreach (string task in Directory.EnumerateDirectories(tasks))
        {
            try
            {
                if (!File.ReadAllText(Path.Combine(task, "comm")).StartsWith("device ", StringComparison.Ordinal)) continue;
                string stat = File.ReadAllText(Path.Combine(task, "stat"));
                // Fields after the command (in parentheses, which may hold spaces): state is field 3, utime 14, stime 15.
                string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                ms += (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) * MsPerTick;
            }
            catch (IOException)
            {
                // The thread ended between the listing and the read.
            }
        }
        return ms;
    }
}
