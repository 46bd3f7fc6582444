using Cluster.Grains.Checkpoints;
using Cluster.Grains.Jobs;
using Microsoft.Extensions.DependencyInjection;

namespace Cluster.Grains.Tests;

/// <summary>
/// 4 silos over a <see cref="FaultyCheckpointStore"/> whose failed commits are retried only after 10 minutes: a
/// checkpoint taken again soon after a failure can only be the recovery's retake, not the storage back-off's retry.
/// </summary>
public sealed class RetakeClusterFixture() : ClusterFixture(4)
{
    protected override ISiloBuilder ConfigureSilo(ISiloBuilder silo)
    {
        string root = Path.Combine(DataRoot, "checkpoints");
        silo.Services.AddSingleton<ICheckpointStore>(_ => new FaultyCheckpointStore(new FileSystemCheckpointStore(root)));
        silo.Services.Configure<JobCoordinatorOptions>(o =>
        {
            o.StorageRetryDelay = TimeSpan.FromMinutes(10);
            o.StorageRetryMaxDelay = TimeSpan.FromMinutes(10);
        });
        return silo;
    }
}
