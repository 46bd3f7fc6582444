using Cluster.Grains.Checkpoints;
using Cluster.Grains.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Cluster.Grains.Tests;

/// <summary>
/// One silo (two nodes) whose checkpoint store is a <see cref="FaultyCheckpointStore"/>, with a short
/// <see cref="TrainingClusterOptions.SchedulerReleaseTimeout"/> so a preemption that cannot complete times out within a test.
/// </summary>
public sealed class PreemptionFaultClusterFixture() : ClusterFixture(1)
{
    public static readonly TimeSpan ReleaseTimeout = TimeSpan.FromSeconds(3);

    protected override ISiloBuilder ConfigureSilo(ISiloBuilder silo)
    {
        string root = Path.Combine(DataRoot, "checkpoints");
        silo.Services.AddSingleton<ICheckpointStore>(_ => new FaultyCheckpointStore(new FileSystemCheckpointStore(root)));
        return silo;
    }

    protected override ISiloBuilder AfterTrainingCluster(ISiloBuilder silo)
    {
        silo.Services.PostConfigure<TrainingClusterOptions>(o => o.SchedulerReleaseTimeout = ReleaseTimeout);
        return silo;
    }
}
