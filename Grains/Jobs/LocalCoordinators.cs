using System.Collections.Concurrent;

namespace Cluster.Grains.Jobs;

/// <summary>
/// The jobs whose coordinator (job grain activation) lives on this silo: what a silo that shuts down asks to hand over
/// (<c>CoordinatorHandOverOnShutdown</c>). An activation adds its job when it activates and removes it when it deactivates.
/// </summary>
internal sealed class LocalCoordinators
{
    private readonly ConcurrentDictionary<string, byte> _jobs = new(StringComparer.Ordinal);

    public void Add(string jobId) => _jobs[jobId] = 0;

    public void Remove(string jobId) => _jobs.TryRemove(jobId, out _);

    /// <summary>The job ids now, in no particular order.</summary>
    public IReadOnlyList<string> Jobs => [.. _jobs.Keys];
}
