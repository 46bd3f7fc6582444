using Cluster.Grains.Interfaces.Security;

namespace Cluster.Grains.Interfaces.Jobs;

/// <summary>
/// The cluster's list of jobs that have not finished, key <see cref="JobRegistryKeys.Default"/>. Persisted, so after
/// any silo dies the watchdog on the survivors can wake the jobs whose grains died with it.
/// </summary>
[Alias("cluster.IJobRegistryGrain")]
public interface IJobRegistryGrain : IGrainWithStringKey
{
    [Alias("Add")]
    Task Add(string jobId);

    [Alias("Remove")]
    Task Remove(string jobId);

    /// <summary>Jobs not yet Completed, Failed or Cancelled, in submission order.</summary>
    [Alias("GetActive"), OperatorFacing(OperatorRole.Viewer)]
    Task<IReadOnlyList<string>> GetActive();

    /// <summary>Every job ever submitted (for the console), in submission order.</summary>
    [Alias("GetAll"), OperatorFacing(OperatorRole.Viewer)]
    Task<IReadOnlyList<string>> GetAll();

    /// <summary>Removes a deleted job from both lists (it is no longer shown anywhere).</summary>
    [Alias("Forget")]
    Task Forget(string jobId);
}
