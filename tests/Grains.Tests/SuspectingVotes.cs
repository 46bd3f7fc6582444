using System.Collections.Concurrent;
using Cluster.Grains.Scheduling;
using Orleans.Runtime;

namespace Cluster.Grains.Tests;

/// <summary>
/// The real membership table's Active rows (through <see cref="ManagementGrainVotes"/>), plus a fresh suspicion vote —
/// cast by another member at the time of the read — for every silo named in <see cref="Suspects"/>: a silo one peer
/// cannot probe, as Orleans records it before it has the votes (or the time) to declare it dead.
/// </summary>
internal sealed class SuspectingVotes(ConcurrentDictionary<string, bool> suspects, IMembershipVotes table) : IMembershipVotes
{
    public ConcurrentDictionary<string, bool> Suspects => suspects;

    public async Task<IReadOnlyList<MembershipEntry>> ReadActive()
    {
        var entries = await table.ReadActive();
        return [.. entries.Select(e => !suspects.ContainsKey(e.SiloName) ? e : new MembershipEntry
        {
            SiloAddress = e.SiloAddress,
            SiloName = e.SiloName,
            Status = e.Status,
            HostName = e.HostName,
            ProxyPort = e.ProxyPort,
            StartTime = e.StartTime,
            IAmAliveTime = e.IAmAliveTime,
            SuspectTimes = [.. e.SuspectTimes ?? [], Tuple.Create(entries.First(o => o.SiloName != e.SiloName).SiloAddress, DateTime.UtcNow)],
        })];
    }
}
