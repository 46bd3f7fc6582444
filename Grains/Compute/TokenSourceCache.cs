using System.Collections.Concurrent;
using Cluster.Grains.Hosting;
using Cluster.Kernels.Data;
using Microsoft.Extensions.Options;

namespace Cluster.Grains.Compute;

/// <summary>
/// Opens corpora for the stages of every job on this silo, only from the silo's data roots
/// (<see cref="TrainingClusterOptions.DataRoots"/>; default: its <see cref="TrainingClusterOptions.DataRoot"/>).
/// A loaded corpus is shared while some stage holds it and evicted (collected) once none does; the identity (size,
/// SHA-256) of each file version is remembered, so a job pinned to a hash (<c>path@sha256:…</c>) is checked
/// against the bytes this silo loads.
/// </summary>
public sealed class TokenSourceCache
{
    private readonly DataSourcePolicy _policy;
    private readonly ConcurrentDictionary<string, (WeakReference<ITokenSource> Source, DataIdentity Identity)> _loaded = new(StringComparer.Ordinal);
    private readonly Lock _loading = new();
    private IdentifiedTokenSource? _synthetic;

    public TokenSourceCache(IOptions<TrainingClusterOptions> options)
        : this(PolicyOf(options.Value))
    {
    }

    public TokenSourceCache(DataSourcePolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        _policy = policy;
    }

    public DataSourcePolicy Policy => _policy;

    /// <summary>Corpora loaded and still held by some stage (for tests and diagnostics).</summary>
    public int LoadedCount => _loaded.Values.Count(e => e.Source.TryGetTarget(out _));

    /// <summary>The policy of a silo's options: its data roots, or its data folder when none are given.</summary>
    public static DataSourcePolicy PolicyOf(TrainingClusterOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new DataSourcePolicy(options.DataRoots is { Count: > 0 } roots ? roots : [options.DataRoot]);
    }

    /// <summary>The corpus <paramref name="spec"/> names; throws (an <see cref="IOException"/>) when it is refused, missing or differs from its pin.</summary>
    public ITokenSource Get(string spec) => Load(spec).Source;

    /// <summary>The corpus and the identity of its bytes; see <see cref="Get"/>.</summary>
    public IdentifiedTokenSource Load(string spec)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(spec);
        var reference = DataSourceReference.Parse(spec);
        IdentifiedTokenSource loaded;
        if (reference.Path == TokenSources.Synthetic)
        {
            loaded = _synthetic ??= TokenSources.Load(TokenSources.Synthetic, _policy);
        }
        else
        {
            var file = TokenSources.Check(reference.Path, _policy); // refuses without reading
            loaded = LoadFile(file);
        }
        if (reference.Sha256 is { } expected && expected != loaded.Identity.Sha256)
            throw new DataIdentityMismatchException(spec, expected, loaded.Identity);
        return loaded;
    }

    /// <summary>Why <paramref name="spec"/> cannot be used on this silo, or null when it can (loading it if need be).</summary>
    public string? ProblemWith(string spec)
    {
        try
        {
            Load(spec);
            return null;
        }
        catch (DataSourceRefusedException e)
        {
            return e.Message;
        }
        catch (DataIdentityMismatchException e)
        {
            return e.Message;
        }
        catch (FileNotFoundException e)
        {
            return e.Message;
        }
        catch (ArgumentException e)
        {
            return e.Message;
        }
    }

    /// <summary>The source pinned to this silo's copy (<c>path@sha256:…</c>): what a job records at submit so every stage reads the same bytes.</summary>
    public string Pin(string spec) => DataSourceReference.Pin(spec, Load(spec).Identity);

    private IdentifiedTokenSource LoadFile(DataFile file)
    {
        // A new size or modification time is a new version of the file: loaded and identified afresh.
        string version = $"{file.RealPath}\n{file.Bytes}\n{File.GetLastWriteTimeUtc(file.RealPath).Ticks}";
        if (TryCached(version) is { } cached)
            return cached;
        lock (_loading)
        {
            if (TryCached(version) is { } again)
                return again;
            foreach (var (key, entry) in _loaded)
                if (!entry.Source.TryGetTarget(out _)) _loaded.TryRemove(key, out _); // no stage holds it any more
            var loaded = TokenSources.LoadFile(file);
            _loaded[version] = (new WeakReference<ITokenSource>(loaded.Source), loaded.Identity);
            return loaded;
        }
    }

    private IdentifiedTokenSource? TryCached(string version) =>
        _loaded.TryGetValue(version, out var entry) && entry.Source.TryGetTarget(out var source) ? new IdentifiedTokenSource(source, entry.Identity) : null;
}
