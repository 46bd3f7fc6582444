namespace Cluster.Grains.Tests;

/// <summary>Two silos of their own (a test stops one for good), with a log kept in <see cref="Logs"/>.</summary>
public sealed class TwoSiloLeaveClusterFixture() : ClusterFixture(2)
{
    public SiloLogLines Logs { get; } = new();

    protected override ISiloBuilder ConfigureSilo(ISiloBuilder silo, string siloName)
    {
        Logs.Add(silo, siloName);
        return silo;
    }
}
