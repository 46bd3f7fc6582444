using System.Collections.Concurrent;
using Cluster.Grains.Scheduling;
using Microsoft.Extensions.DependencyInjection;

namespace Cluster.Grains.Tests;

/// <summary>A cluster whose membership table reads add suspicion votes for the silos a test names (see <see cref="SuspectingVotes"/>).</summary>
public sealed class SuspicionClusterFixture : ClusterFixture
{
    /// <summary>Silos every silo's reads show suspected (the value is unused).</summary>
    public ConcurrentDictionary<string, bool> Suspects { get; } = new(StringComparer.Ordinal);

    protected override ISiloBuilder AfterTrainingCluster(ISiloBuilder silo)
    {
        silo.Services.AddSingleton<IMembershipVotes>(sp => new SuspectingVotes(Suspects, new ManagementGrainVotes(sp.GetRequiredService<IGrainFactory>())));
        return silo;
    }
}
