using Microsoft.Extensions.DependencyInjection;

namespace Cluster.Grains.Tests;

/// <summary>
/// Four silos of their own (a test stops one for good), each with the two <see cref="HeldCall"/>s a test arms for the
/// calls a grain (or the silo) makes, the <see cref="PlacementHold"/> a test arms for a job's placement, and a log kept in <see cref="Logs"/>.
/// </summary>
public sealed class CoordinatorStopClusterFixture() : ClusterFixture(4)
{
    /// <summary>Holds a call before it is sent.</summary>
    public HeldCall Outgoing { get; } = new();

    /// <summary>Holds a second call (a moment of a protocol) while <see cref="Outgoing"/> holds another.</summary>
    public HeldCall Moment { get; } = new();

    public SiloLogLines Logs { get; } = new();

    /// <summary>Holds a silo's graceful stop in its Active stage, as a slow drain would.</summary>
    public ActiveStopGate Leave { get; } = new();

    /// <summary>Holds a job's placement call at the scheduler until the test lets it run.</summary>
    public PlacementHold Placement { get; } = new();

    protected override ISiloBuilder ConfigureSilo(ISiloBuilder silo, string siloName)
    {
        Logs.Add(silo, siloName);
        silo.Services.AddSingleton(Leave.For(siloName));
        return silo.AddOutgoingGrainCallFilter(Outgoing).AddOutgoingGrainCallFilter(Moment).AddIncomingGrainCallFilter(Placement);
    }
}
