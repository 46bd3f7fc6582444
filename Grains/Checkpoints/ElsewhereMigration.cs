using Orleans.Core.Internal;

namespace Cluster.Grains.Checkpoints;

/// <summary>
/// Starts a departing grain's migration only once a silo other than this one has been chosen for it.
/// <para>
/// Invariant (a grain that holds copies never deactivates for a move it does not make): Orleans' own
/// <c>MigrateOnIdle</c> places the grain during its deactivation, and when that placement chooses this silo or fails —
/// a director whose view lacks the other silos (one that joined a moment ago is not yet among the compatible ones), or
/// whose target is not active here — it finishes deactivating the grain <em>without</em> dehydrating it (read in
/// <c>ActivationData.StartMigrationAsync</c>): a holder's or a stage's copies would go with no parcel left, and its caller
/// would believe it moved (a job logged a holder "moved off" a silo it never left). Here the grain is placed first,
/// through Orleans' management extension on the activation, which starts the migration only towards another silo; so a
/// grain no placement sends elsewhere stays, copies and all, is no longer counted as departing, and says so.
/// </para>
/// </summary>
internal static class ElsewhereMigration
{
    /// <summary>
    /// Places <paramref name="grain"/> (departing, <see cref="MigrationParcels.Departing"/>) with the current call's
    /// request context and starts its migration when the placement chose a silo other than this one;
    /// true then. Otherwise ends its departure and returns false: it stays.
    /// </summary>
    public static async Task<bool> MigrateElsewhereOnIdle(this IGrainBase grain, MigrationParcels parcels)
    {
        ArgumentNullException.ThrowIfNull(grain);
        ArgumentNullException.ThrowIfNull(parcels);
        string key = grain.GrainContext.GrainId.ToString();
        var management = grain.GrainContext as IGrainManagementExtension
            ?? throw new InvalidOperationException($"Grain {key} cannot be placed before it migrates: its activation ({grain.GrainContext.GetType().Name}) is not Orleans' own.");
        await management.MigrateOnIdle(); // every director of the product runs in DepartureTargetDirector, which tells the departure where it sends it
        if (parcels.HeadingTo(key) is { } target && !target.Equals(grain.GrainContext.Address.SiloAddress)) return true;
        parcels.Departed(key);
        return false;
    }
}
