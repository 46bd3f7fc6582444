using Orleans.Runtime;

namespace Cluster.Grains.Scheduling;

/// <summary>
/// The membership table as <see cref="IManagementGrain.GetDetailedHosts"/> returns it: the management grain is a local
/// stateless worker that refreshes the silo's view from the table, then lists the Active rows with their votes.
/// </summary>
internal sealed class ManagementGrainVotes(IGrainFactory grains) : IMembershipVotes
{
    public async Task<IReadOnlyList<MembershipEntry>> ReadActive() =>
        await grains.GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: true);
}
