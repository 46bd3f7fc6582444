using Cluster.Grains.Checkpoints;
using Microsoft.Extensions.DependencyInjection;

namespace Cluster.Grains.Tests;

/// <summary>4 silos whose checkpoint store is a <see cref="FaultyCheckpointStore"/> over the shared file system.</summary>
public sealed class FaultInjectionClusterFixture() : ClusterFixture(4)
{
    protected override ISiloBuilder ConfigureSilo(ISiloBuilder silo)
    {
        string root = Path.Combine(DataRoot, "checkpoints");
        silo.Services.AddSingleton<ICheckpointStore>(_ => new FaultyCheckpointStore(new FileSystemCheckpointStore(root)));
        return silo;
    }
}
