namespace Cluster.Grains.Tests;

/// <summary>2 silos whose incoming calls pass <see cref="SchedulerCallFaultFilter"/>, so the scheduler's rebuild can be faulted.</summary>
public sealed class SchedulerRebuildClusterFixture() : ClusterFixture(2)
{
    protected override ISiloBuilder ConfigureSilo(ISiloBuilder silo) => silo.AddIncomingGrainCallFilter<SchedulerCallFaultFilter>();
}
