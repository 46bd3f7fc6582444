using System.Collections.Concurrent;

namespace Cluster.Grains.Hosting;

/// <summary>
/// The keys of one kind of grain whose activations live on this silo now: what a silo that shuts down asks to leave
/// (its coordinators to hand over, its snapshot holders to move). An activation adds its key once it has activated
/// and removes it when it deactivates.
/// </summary>
internal abstract class LocalGrainKeys
{
    private readonly ConcurrentDictionary<string, byte> _keys = new(StringComparer.Ordinal);

    public void Add(string key) => _keys[key] = 0;

    public void Remove(string key) => _keys.TryRemove(key, out _);

    /// <summary>The keys now, in no particular order.</summary>
    public IReadOnlyList<string> Keys => [.. _keys.Keys];
}
