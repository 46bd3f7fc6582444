namespace Cluster.Grains.Tests;

/// <summary>The default in-memory cluster (<see cref="ClusterFixture"/>) with one incoming call filter on every silo, which tests arm.</summary>
public sealed class FilteredClusterFixture<TFilter> : ClusterFixture
    where TFilter : IIncomingGrainCallFilter, new()
{
    public TFilter Filter { get; } = new();

    protected override ISiloBuilder ConfigureSilo(ISiloBuilder silo) => silo.AddIncomingGrainCallFilter(Filter);
}
