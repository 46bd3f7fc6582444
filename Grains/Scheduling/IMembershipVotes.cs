namespace Cluster.Grains.Scheduling;

/// <summary>
/// Where <see cref="SuspectedSilos"/> reads the membership table's active rows, suspicion votes included (Orleans'
/// <see cref="Orleans.Runtime.IClusterMembershipService"/> snapshot carries no votes). One read is one storage read of
/// the membership table; tests substitute a source that adds votes.
/// </summary>
public interface IMembershipVotes
{
    /// <summary>The membership entries of the silos that are Active now, with their <see cref="MembershipEntry.SuspectTimes"/>.</summary>
    Task<IReadOnlyList<MembershipEntry>> ReadActive();
}
