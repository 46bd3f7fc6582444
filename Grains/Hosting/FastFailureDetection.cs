using Orleans.Configuration;

namespace Cluster.Grains.Hosting;

/// <summary>
/// The <c>fast</c> failure-detection profile, for local clusters (demo, tests): declares a crashed silo dead in about a
/// second and a hung one (process stopped, TCP connection still open) in about two, instead of Orleans' defaults of
/// ≈ 10 s and ≈ 60 s (measured on this stack: see shared/STACK-NOTES.md). Worth it for training, where every second a
/// pipeline waits on a dead stage is lost on every GPU of the job; the price is more probe traffic and less tolerance
/// of long GC or CPU stalls: one silo's vote evicts another, so an overloaded silo can evict a healthy one. Fleets use
/// <see cref="FleetFailureDetection"/>.
/// </summary>
public static class FastFailureDetection
{
    public static ISiloBuilder UseFastFailureDetection(this ISiloBuilder silo) => silo.Configure<ClusterMembershipOptions>(Apply);

    public static void Apply(ClusterMembershipOptions o)
    {
        o.ProbeTimeout = TimeSpan.FromSeconds(1);
        o.NumMissedProbesLimit = 2;
        o.NumVotesForDeathDeclaration = 1;
        o.TableRefreshTimeout = TimeSpan.FromSeconds(2);
        // A silo whose I-am-alive is 9 s old is probed by every silo, whatever the probe rings say: rings that include
        // rejoining silos can leave a dead entry unprobed (see FleetFailureDetection).
        o.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(3);
        o.NumMissedTableIAmAliveLimit = 3;
        // The connection-liveness check holds off suspicion while a hung peer's socket stays open (≈ 60 s).
        o.EnableConnectionLivenessCheck = false;
        // A busy 2-core machine looks "degraded" to itself; extending probes then would slow detection down.
        o.ExtendProbeTimeoutDuringDegradation = false;
    }
}
