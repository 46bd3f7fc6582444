using System.Globalization;
using Cluster.Grains.Compute;

namespace Cluster.Grains.Nodes;

/// <summary>
/// Whether a node's device is hung: its operation in flight is older than max(k × p99 step time, floor). A hung
/// device never throws, so the error count alone would leave the node Ready for ever; this is the check that catches it.
/// During a warm-up (a new worker, or a stage just configured on it, until it has recorded a few steps) the floor is
/// the larger warm-up limit instead: building a model, allocating optimizer state or a first kernel's compilation on a
/// loaded machine is slow, not hung, and the step history does not yet say what this executor's steps cost.
/// </summary>
internal static class DeviceHangCheck
{
    /// <summary>The age past which an operation counts as hung.</summary>
    public static TimeSpan Limit(double stepTimeP99Ms, double factor, TimeSpan floor)
    {
        var scaled = double.IsFinite(stepTimeP99Ms) && stepTimeP99Ms > 0 ? TimeSpan.FromMilliseconds(factor * stepTimeP99Ms) : TimeSpan.Zero;
        return scaled > floor ? scaled : floor;
    }

    /// <summary>The floor of the limit: during a warm-up the warm-up limit where it is the larger, else the floor.</summary>
    public static TimeSpan FloorOf(TimeSpan floor, bool warmingUp, TimeSpan warmupLimit) =>
        warmingUp && warmupLimit > floor ? warmupLimit : floor;

    /// <summary>The reason the device counts as hung at <paramref name="now"/>, or null while it is idle or within the limit.</summary>
    public static string? HungReason(DeviceWorker worker, DateTimeOffset now, double factor, TimeSpan floor) =>
        HungReason(worker, now, new DeviceHangBounds(factor, floor, WarmupSteps: 0, WarmupLimit: floor));

    /// <summary>The reason the device counts as hung at <paramref name="now"/>, or null while it is idle or within the limit.</summary>
    public static string? HungReason(DeviceWorker worker, DateTimeOffset now, DeviceHangBounds bounds)
    {
        var age = worker.InFlightAge(now);
        if (age <= TimeSpan.Zero) return null;
        double p99 = worker.StepTimes().P99;
        bool warmingUp = worker.StepsSinceWarmup < bounds.WarmupSteps;
        var floor = FloorOf(bounds.Floor, warmingUp, bounds.WarmupLimit);
        var limit = Limit(p99, bounds.Factor, floor);
        if (age <= limit) return null;
        string floorText = warmingUp
            ? string.Create(CultureInfo.InvariantCulture, $"warm-up limit {floor.TotalSeconds:F1} s: {worker.StepsSinceWarmup} of {bounds.WarmupSteps} steps since the stage was configured")
            : string.Create(CultureInfo.InvariantCulture, $"floor {floor.TotalSeconds:F1} s");
        return string.Create(CultureInfo.InvariantCulture,
            $"device hung: one operation has run for {age.TotalSeconds:F1} s, over the limit {limit.TotalSeconds:F1} s (max({bounds.Factor:G} × p99 step {p99:F0} ms, {floorText}))");
    }
}
