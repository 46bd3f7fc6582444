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
        // The connection-liveness check holds off suspicion while a hung peer's socket stays open (≈ 60 s).
        o.EnableConnectionLivenessCheck = false;
        // A busy 2-core machine looks "degraded" to itself; extending probes then would slow detection down.
        o.ExtendProbeTimeoutDuringDegradation = false;
    }
}
