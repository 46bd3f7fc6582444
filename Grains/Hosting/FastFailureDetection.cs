using Orleans.Configuration;

namespace Cluster.Grains.Hosting;

/// <summary>
/// Membership settings that declare a crashed silo dead in about a second and a hung one (process stopped, TCP
/// connection still open) in about two, instead of Orleans' defaults of ≈ 10 s and ≈ 60 s (measured on this stack:
/// see shared/STACK-NOTES.md). Worth it for training, where every second a pipeline waits on a dead stage is lost on
/// every GPU of the job; the price is more probe traffic and less tolerance of long GC or CPU stalls.
/// </summary>
public static class FastFailureDetection
{
    public static ISiloBuilder UseFastFailureDetection(this ISiloBuilder silo) =>
        silo.Configure<ClusterMembershipOptions>(o =>
        {
            o.ProbeTimeout = TimeSpan.FromSeconds(1);
            o.NumMissedProbesLimit = 2;
            o.NumVotesForDeathDeclaration = 1;
            o.TableRefreshTimeout = TimeSpan.FromSeconds(2);
            // The connection-liveness check holds off suspicion while a hung peer's socket stays open (≈ 60 s).
            o.EnableConnectionLivenessCheck = false;
            // A busy 2-core machine looks "degraded" to itself; extending probes then would slow detection down.
            o.ExtendProbeTimeoutDuringDegradation = false;
        });
}
