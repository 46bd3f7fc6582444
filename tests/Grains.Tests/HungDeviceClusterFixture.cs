using Cluster.Grains.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Cluster.Grains.Tests;

/// <summary>
/// The 3-silo cluster with a short hung-device floor (3 s, 15 s in warm-up), so a hung device is caught within a test's patience; the
/// shared fixtures keep the 30 s default, which no tiny-model operation on a loaded 2-core machine comes near.
/// </summary>
public sealed class HungDeviceClusterFixture : ClusterFixture
{
    public static readonly TimeSpan HangFloor = TimeSpan.FromSeconds(3);

    /// <summary>The warm-up limit, short too: the tests hang a device after a few steps, past its warm-up.</summary>
    public static readonly TimeSpan WarmupLimit = TimeSpan.FromSeconds(15);

    protected override ISiloBuilder ConfigureSilo(ISiloBuilder silo) => WithShortHangFloor(silo);

    /// <summary>Gives <paramref name="silo"/> this fixture's hang floor and warm-up limit (for other fixtures that hang devices).</summary>
    public static ISiloBuilder WithShortHangFloor(ISiloBuilder silo)
    {
        silo.Services.PostConfigure<TrainingClusterOptions>(o => { o.DeviceHangFloor = HangFloor; o.DeviceHangWarmupLimit = WarmupLimit; });
        return silo;
    }
}
