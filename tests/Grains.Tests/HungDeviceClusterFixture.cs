using Cluster.Grains.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Cluster.Grains.Tests;

/// <summary>
/// The 3-silo cluster with a short hung-device floor (3 s), so a hung device is caught within a test's patience; the
/// shared fixtures keep the 30 s default, which no tiny-model operation on a loaded 2-core machine comes near.
/// </summary>
public sealed class HungDeviceClusterFixture : ClusterFixture
{
    public static readonly TimeSpan HangFloor = TimeSpan.FromSeconds(3);

    protected override ISiloBuilder ConfigureSilo(ISiloBuilder silo)
    {
        silo.Services.PostConfigure<TrainingClusterOptions>(o => o.DeviceHangFloor = HangFloor);
        return silo;
    }
}
