using System.Collections.Concurrent;
using Cluster.Kernels.Data;

namespace Cluster.Grains.Compute;

/// <summary>Opens each corpus once per silo; stages of every job share it (token sources are read-only).</summary>
public sealed class TokenSourceCache : IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<ITokenSource>> _sources = new(StringComparer.Ordinal);

    public ITokenSource Get(string spec) =>
        _sources.GetOrAdd(spec, s => new Lazy<ITokenSource>(() => TokenSources.Open(s), LazyThreadSafetyMode.PublicationOnly)).Value;

    public void Dispose()
    {
        foreach (var source in _sources.Values)
            if (source.IsValueCreated && source.Value is IDisposable disposable) disposable.Dispose();
    }
}
