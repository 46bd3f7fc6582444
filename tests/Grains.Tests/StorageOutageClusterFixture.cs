using Cluster.Grains.Checkpoints;
using Cluster.Grains.Hosting;
using Cluster.Grains.Jobs;
using Cluster.Grains.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Serialization;
using Orleans.Storage;

namespace Cluster.Grains.Tests;

/// <summary>
/// 2 silos whose checkpoint store and job-state storage are fault-injecting wrappers over the real file-system ones
/// (<see cref="StorageFaults"/>), with fast storage retries and a short limit of steps without a durable checkpoint.
/// </summary>
public sealed class StorageOutageClusterFixture() : ClusterFixture(2)
{
    public const int MaxStepsWithoutDurableCheckpoint = 10;

    protected override ISiloBuilder ConfigureSilo(ISiloBuilder silo)
    {
        string root = Path.Combine(DataRoot, "checkpoints");
        silo.Services.AddSingleton<ICheckpointStore>(_ => new FaultyCheckpointStore(new FileSystemCheckpointStore(root)));
        silo.Services.Configure<JobCoordinatorOptions>(o =>
        {
            o.MaxStepsWithoutDurableCheckpoint = MaxStepsWithoutDurableCheckpoint;
            o.StorageRetryDelay = TimeSpan.FromMilliseconds(100);
            o.StorageRetryMaxDelay = TimeSpan.FromSeconds(1);
        });
        return silo;
    }

    protected override ISiloBuilder AfterTrainingCluster(ISiloBuilder silo)
    {
        return FaultyGrainStorage.ForJobState(silo);
    }
}
