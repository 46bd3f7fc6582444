using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace Cluster.Grains.Hosting;

/// <summary>
/// When a silo starts, declares its previous incarnation dead: a membership entry with the same silo name, an older
/// generation and any status but Dead, whose endpoint no longer answers (<see cref="ISiloPortProbe"/>).
/// <para>
/// Why: a process killed and restarted on a new endpoint (another port, a new pod address) leaves its old entry Active
/// until the peers' probes vote it out — seconds, normally. But Orleans picks each silo's probe targets from hash rings
/// that include joining silos, so while silos rejoin, a small cluster can be left with nobody probing the dead entry; and
/// the joiners, which must reach every Active silo before they join, wait on it. Observed in KillDuringLeaveProcessTests
/// (seed 12, fleet profile, two silos rejoining): the dead entry stayed Active for 92 s — until Orleans' stale-IAmAlive
/// bound — while a stage's call to a snapshot holder there waited, the job stalled and recomputed steps. Orleans'
/// Kubernetes agent does the same for silos whose pod no longer exists.
/// </para>
/// <para>
/// Invariant: a silo whose endpoint accepts a connection is never declared dead here (a stopped or paused process still
/// accepts: the kernel completes the handshake) — that stays the failure detector's call. Names are identities (node ids
/// are &lt;silo&gt;/&lt;device&gt;), so a live namesake is a configuration error: logged, left alone. Nothing here holds
/// the start: if membership cannot be read, the peers' probes still declare the old entry dead.
/// </para>
/// </summary>
internal sealed partial class PreviousIncarnationEviction(ILocalSiloDetails local, IClusterMembershipService membership, ISiloPortProbe probe,
    IOptions<ClusterMembershipOptions> membershipOptions, ILogger<PreviousIncarnationEviction> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle)
    {
        ArgumentNullException.ThrowIfNull(lifecycle);
        // After the membership service can read the table, before the silo validates its connectivity to every Active
        // silo (ValidateInitialConnectivity), which is what would wait on the dead entry.
        lifecycle.Subscribe(nameof(PreviousIncarnationEviction), ServiceLifecycleStage.AfterRuntimeGrainServices, Start);
    }

    internal async Task Start(CancellationToken cancellationToken)
    {
        try
        {
            await membership.Refresh(cancellationToken: cancellationToken);
            foreach (var earlier in Predecessors(membership.CurrentSnapshot))
            {
                if (await probe.Answers(earlier.SiloAddress.Endpoint, membershipOptions.Value.ProbeTimeout, cancellationToken))
                {
                    LogNamesakeAnswers(logger, local.Name, earlier.SiloAddress, earlier.Status);
                    continue;
                }
                await membership.TryKill(earlier.SiloAddress);
                LogDeclaredDead(logger, local.Name, earlier.SiloAddress, earlier.Status);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogNotChecked(logger, e);
        }
    }

    /// <summary>
    /// Entries of this silo's name from before it started, not yet Dead, on another endpoint, oldest first. (One on this
    /// silo's own endpoint Orleans declares dead itself when the silo joins — and its port, now this silo's, would answer.)
    /// </summary>
    internal IEnumerable<ClusterMember> Predecessors(ClusterMembershipSnapshot snapshot) =>
        snapshot.Members.Values
            .Where(m => m.Status != SiloStatus.Dead && string.Equals(m.Name, local.Name, StringComparison.Ordinal)
                        && m.SiloAddress.Generation < local.SiloAddress.Generation
                        && !m.SiloAddress.Endpoint.Equals(local.SiloAddress.Endpoint))
            .OrderBy(m => m.SiloAddress.Generation);

    [LoggerMessage(1, LogLevel.Warning, "Silo {Name} restarted: declared its previous incarnation {Previous} dead (it was {Status} in membership and its endpoint no longer answers), so peers and joining silos stop waiting on it")]
    private static partial void LogDeclaredDead(ILogger logger, string name, SiloAddress previous, SiloStatus status);

    [LoggerMessage(2, LogLevel.Warning, "Silo {Name}: an earlier silo of the same name, {Previous}, is {Status} in membership and its endpoint still answers; left to the failure detector. Two live silos must not share a name (node ids are <silo>/<device>): give each its own Orleans:SiloName")]
    private static partial void LogNamesakeAnswers(ILogger logger, string name, SiloAddress previous, SiloStatus status);

    [LoggerMessage(3, LogLevel.Warning, "Could not check membership for an earlier incarnation of this silo; the failure detector will declare it dead if it is gone")]
    private static partial void LogNotChecked(ILogger logger, Exception exception);
}
