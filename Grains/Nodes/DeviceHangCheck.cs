using System.Globalization;
using Cluster.Grains.Compute;

namespace Cluster.Grains.Nodes;

/// <summary>
/// Whether a node's device is hung: its operation in flight is older than max(k × p99 step time, floor). A hung
/// device never throws, so the error count alone would leave the node Ready for ever; this is the check that catches it.
/// </summary>
internal static class DeviceHangCheck
{
    /// <summary>The age past which an operation counts as hung.</summary>
    public static TimeSpan Limit(double stepTimeP99Ms, double factor, TimeSpan floor)
    {
        var scaled = double.IsFinite(stepTimeP99Ms) && stepTimeP99Ms > 0 ? TimeSpan.FromMilliseconds(factor * stepTimeP99Ms) : TimeSpan.Zero;
        return scaled > floor ? scaled : floor;
    }

    /// <summary>The reason the device counts as hung at <paramref name="now"/>, or null while it is idle or within the limit.</summary>
    public static string? HungReason(DeviceWorker worker, DateTimeOffset now, double factor, TimeSpan floor)
    {
        var age = worker.InFlightAge(now);
        if (age <= TimeSpan.Zero) return null;
        double p99 = worker.StepTimes().P99;
        var limit = Limit(p99, factor, floor);
        return age <= limit ? null : string.Create(CultureInfo.InvariantCulture,
            $"device hung: one operation has run for {age.TotalSeconds:F1} s, over the limit {limit.TotalSeconds:F1} s (max({factor:G} × p99 step {p99:F0} ms, floor {floor.TotalSeconds:F1} s))");
    }
}
