using Cluster.Grains.Checkpoints;
using Cluster.Kernels.Model;
using Orleans.Runtime;
using Orleans.Runtime.Placement;

namespace Cluster.Grains.Placement;

/// <summary>
/// Places snapshot holders (<see cref="SnapshotHolderPlacement"/>): among the active compatible silos, one that hosts
/// neither the stage (any replica), nor a lower-index holder of it, nor the silos a call's hints name
/// (<see cref="PlacementContextKeys.AvoidSilo"/>, <see cref="PlacementContextKeys.AlsoAvoidSilo"/>); chosen by the key
/// so repeated placements agree. With no such silo (a one- or two-silo cluster, or every silo taken) it avoids the
/// hinted silos, else the first one, else takes any: redundancy needs a second silo, and the holder's own check on every
/// snapshot it accepts (see <c>CheckpointShardGrain</c>) moves it off the stage's silo once there is one. Never this silo
/// once its graceful stop has begun (<see cref="LocalSnapshotHolders.SiloLeaving"/>), nor one a holder left because it
/// shuts down (<see cref="PlacementContextKeys.LeftSilo"/>), while another is Active. A holder
/// migrating off this silo is placed here; where it heads is told to its departure by the wrapper every director of the
/// product runs in (<see cref="DepartureTargetDirector"/>).
/// </summary>
internal sealed class SnapshotHolderPlacementDirector(IClusterMembershipService membership, IGrainFactory grains, LocalSnapshotHolders local, ILocalSiloDetails localSilo)
    : IPlacementDirector
{
    public async Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var compatible = context.GetCompatibleSilos(target);
        var members = membership.CurrentSnapshot.Members;
        var active = compatible.Where(s => members.TryGetValue(s, out var m) && m.Status == SiloStatus.Active).ToArray();
        // This silo's graceful stop has begun (its membership entry says Active until the stop's next stage): a holder
        // placed here would have to move on at once (rule 6 on CheckpointShardGrain). Other silos cannot know; such a
        // holder moves on by itself.
        if (local.SiloLeaving) active = WhileAnotherIsActive(active, localSilo.SiloAddress);
        // Nor a silo the holder left because it shuts down (it says so: PlacementContextKeys.LeftSilo), which this one cannot know.
        if (Hint(target, PlacementContextKeys.LeftSilo) is { } left) active = WhileAnotherIsActive(active, SiloAddress.FromParsableString(left));
        if (active.Length == 0) active = compatible;
        if (active.Length == 0)
            throw new NodeUnavailableException($"No silo can host {target.GrainIdentity}.");
        string key = target.GrainIdentity.Key.ToString()!;
        string? hinted = Hint(target, PlacementContextKeys.AvoidSilo), alsoHinted = Hint(target, PlacementContextKeys.AlsoAvoidSilo);
        var occupied = await SnapshotHolderSites.OccupiedAsync(grains, key, includeStages: true);
        bool Named(SiloAddress s, string? name) => name is not null && NodeSilos.NameOf(membership, s) == name;
        var candidates = active.Where(s => !Named(s, hinted) && !Named(s, alsoHinted) && !occupied.Contains(s)).ToArray();
        if (candidates.Length == 0) candidates = [.. active.Where(s => !Named(s, hinted) && !Named(s, alsoHinted))];
        if (candidates.Length == 0) candidates = [.. active.Where(s => !Named(s, hinted))];
        if (candidates.Length == 0) candidates = active;
        // A migration to a named silo (an operator's or a test's) is honoured when that silo is one the rules allow.
        if (target.RequestContextData is { } data && IPlacementDirector.GetPlacementHint(data, candidates) is { } requested) return requested;
        candidates = [.. candidates.OrderBy(s => NodeSilos.NameOf(membership, s), StringComparer.Ordinal).ThenBy(s => s.ToString(), StringComparer.Ordinal)];
        return candidates[HomeIndex(key, candidates.Length)];
    }

    /// <summary><paramref name="active"/> without <paramref name="silo"/>, unless it is the only one.</summary>
    private static SiloAddress[] WhileAnotherIsActive(SiloAddress[] active, SiloAddress silo) =>
        active.Any(s => !s.Equals(silo)) ? [.. active.Where(s => !s.Equals(silo))] : active;

    private static string? Hint(PlacementTarget target, string key) =>
        target.RequestContextData?.TryGetValue(key, out var value) == true ? value as string : null;

    /// <summary>Which of <paramref name="candidates"/> (ordered by silo name) a holder key picks: a stable hash (string.GetHashCode is randomised per process), so every silo agrees.</summary>
    internal static int HomeIndex(string key, int candidates)
    {
        long hash = 0;
        foreach (char c in key) hash = hash * 31 + c;
        return (int)(SeedMixer.Mix((ulong)hash) % (ulong)candidates);
    }
}
