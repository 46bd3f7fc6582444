using Cluster.Grains.Checkpoints;
using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Stages;
using Orleans.Runtime;

namespace Cluster.Grains.Placement;

/// <summary>
/// Where the other copies of a stage's state live now: the silos of the stage's activations (replicas r0…r7, when
/// asked) and of the holders with a lower index than the one asking. Read from the grain directory (no grain is activated by asking).
/// </summary>
internal static class SnapshotHolderSites
{
    /// <summary>Replica ids looked up; a stage of a higher replica id is still avoided through the caller's hint.</summary>
    public const int ReplicaLookups = 8;

    private static readonly TimeSpan LookupTimeout = TimeSpan.FromSeconds(2);

    public static async Task<HashSet<SiloAddress>> OccupiedAsync(IGrainFactory grains, string holderKey, bool includeStages)
    {
        var (jobId, stage, index) = SnapshotHolders.Parse(holderKey);
        var management = grains.GetGrain<IManagementGrain>(0);
        var lookups = Enumerable.Range(0, includeStages ? ReplicaLookups : 0)
            .Select(r => (IAddressable)grains.GetGrain<IPipelineStageGrain>(StageKeys.Stage(jobId, r, stage)))
            .Concat(Enumerable.Range(0, index).Select(h => (IAddressable)grains.GetGrain<ICheckpointShardGrain>(SnapshotHolders.Key(jobId, stage, h))))
            .Select(async grain =>
            {
                try
                {
                    return await management.GetActivationAddress(grain).AsTask().WaitAsync(LookupTimeout);
                }
                catch (Exception e) when (e is TimeoutException or OrleansException or SiloUnavailableException)
                {
                    return null; // unknown: the caller's hint and the holder's own check still apply
                }
            });
        var found = await Task.WhenAll(lookups);
        return [.. found.OfType<SiloAddress>()];
    }
}
