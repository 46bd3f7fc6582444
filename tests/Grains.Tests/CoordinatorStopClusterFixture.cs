namespace Cluster.Grains.Tests;

/// <summary>
/// Four silos of their own (a test stops one for good), each with the <see cref="HeldCall"/> a test arms for the calls
/// a grain makes, and a log kept in <see cref="Logs"/>.
/// </summary>
public sealed class CoordinatorStopClusterFixture() : ClusterFixture(4)
{
    /// <summary>Holds a call before it is sent.</summary>
    public HeldCall Outgoing { get; } = new();

    public SiloLogLines Logs { get; } = new();

    protected override ISiloBuilder ConfigureSilo(ISiloBuilder silo, string siloName)
    {
        Logs.Add(silo, siloName);
        return silo.AddOutgoingGrainCallFilter(Outgoing);
    }
}
