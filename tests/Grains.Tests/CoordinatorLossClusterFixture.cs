namespace Cluster.Grains.Tests;

/// <summary>3 silos whose job-state storage is a fault-injecting wrapper over the real file-system one (<see cref="StorageFaults.GrainState"/>).</summary>
public sealed class CoordinatorLossClusterFixture() : ClusterFixture(3)
{
    protected override ISiloBuilder AfterTrainingCluster(ISiloBuilder silo) => FaultyGrainStorage.ForJobState(silo);
}
