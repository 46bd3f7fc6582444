using Cluster.Grains.Hosting;

namespace Cluster.Grains.Tests;

/// <summary>
/// <see cref="CallMomentClusterFixture"/> with 1 KiB tensor segments (<c>TrainingCluster:TensorSegmentBytes</c>), so
/// the tiny model's activations, gradients and all-reduce chunks each cross between stages in many calls, and a test
/// can lose a silo in the middle of a transfer.
/// </summary>
public sealed class SegmentedCallMomentClusterFixture : CallMomentClusterFixture
{
    public const int SegmentBytes = 1024;

    protected override ISiloBuilder AfterTrainingCluster(ISiloBuilder silo) =>
        silo.Configure<TrainingClusterOptions>(o => o.TensorSegmentBytes = SegmentBytes);
}
