using Cluster.Grains.Hosting;

namespace Cluster.Grains.Nodes;

/// <summary>
/// The hang check's settings: an operation older than max(<paramref name="Factor"/> × p99 step time,
/// <paramref name="Floor"/>) is hung; until a device has recorded <paramref name="WarmupSteps"/> steps since its last
/// warm-up began, <paramref name="WarmupLimit"/> replaces the floor.
/// </summary>
internal readonly record struct DeviceHangBounds(double Factor, TimeSpan Floor, int WarmupSteps, TimeSpan WarmupLimit)
{
    public static DeviceHangBounds From(TrainingClusterOptions options) =>
        new(options.DeviceHangStepFactor, options.DeviceHangFloor, options.DeviceHangWarmupSteps, options.DeviceHangWarmupLimit);
}
