using Orleans.Configuration;

namespace Cluster.Grains.Hosting;

/// <summary>
/// The <c>fleet</c> failure-detection profile: on hundreds of servers a false eviction (a healthy silo declared dead
/// because one overloaded peer stopped hearing it) costs more than a few seconds of detection, since every job with a
/// stage there rolls back to its last checkpoint. Values, against Orleans' defaults (in brackets) and the fast profile:
/// <list type="bullet">
/// <item>Two votes to declare a death [2; fast: 1]. Orleans needs min(votes, ⌈active silos / 2⌉): from three silos up,
/// two peers must agree; a cluster of two still evicts on one vote (there is nobody else to ask).</item>
/// <item>Each silo probes 3 others [10]: enough independent observers for two votes, little probe traffic at 200 silos.</item>
/// <item>Initial probe timeout 2 s, adapted by Orleans between 1 s and 8 s [5 s, 2.5–20 s; fast: 1 s], 3 missed probes
/// before a vote [3; fast: 2]: a stall (GC pause, swap, a busy CPU) shorter than ≈ 6 s draws no vote at all.</item>
/// <item>Indirect probes on: before voting, a silo asks another to probe the suspect, so a silo whose own network
/// or CPU is the problem does not vote alone.</item>
/// <item>Probe timeouts extended while the prober itself is degraded [fast: off]: an overloaded silo waits longer
/// instead of voting.</item>
/// <item>Connection liveness check on [on; fast: off]: a peer whose connection delivered messages within max probe timeout ×
/// missed probes (24 s) is not suspected, so a stopped process with an open connection is evicted after ≈ 25 s.</item>
/// <item>Membership table read every 10 s [60 s; fast: 2 s]: votes of different silos meet in the table; gossip still
/// spreads a declared death at once.</item>
/// <item>Each silo writes its I-am-alive time every 10 s [30 s; fast: 3 s]; three missed (30 s) make it stale [90 s]. Every
/// silo probes a stale silo, whatever its probe rings say, and a stale silo no longer counts towards the votes needed.
/// That bounds a case the rings miss: they include joining silos, so while silos rejoin, a small cluster can be left with
/// nobody probing a dead entry — and the joiners, which must reach every Active silo first, wait on it (92 s seen before
/// this bound; <see cref="PreviousIncarnationEviction"/> removes the common case, a silo restarted under its name).</item>
/// </list>
/// Detection times (measured and computed) are in docs/deploy.md.
/// </summary>
public static class FleetFailureDetection
{
    public static ISiloBuilder UseFleetFailureDetection(this ISiloBuilder silo) => silo.Configure<ClusterMembershipOptions>(Apply);

    public static void Apply(ClusterMembershipOptions o)
    {
        o.NumVotesForDeathDeclaration = 2;
        o.NumProbedSilos = 3;
        o.ProbeTimeout = TimeSpan.FromSeconds(2);
        o.MinProbeTimeout = TimeSpan.FromSeconds(1);
        o.MaxProbeTimeout = TimeSpan.FromSeconds(8);
        o.NumMissedProbesLimit = 3;
        o.EnableIndirectProbes = true;
        o.ExtendProbeTimeoutDuringDegradation = true;
        o.EnableConnectionLivenessCheck = true;
        o.TableRefreshTimeout = TimeSpan.FromSeconds(10);
        o.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(10);
        o.NumMissedTableIAmAliveLimit = 3;
    }
}
