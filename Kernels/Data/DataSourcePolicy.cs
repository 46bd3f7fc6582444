namespace Cluster.Kernels.Data;

/// <summary>
/// Which files a job may read: regular files under one of the data roots, after every symbolic link and '..' is
/// resolved, and no larger than <see cref="MaxBytes"/>. /proc, /sys and /dev are refused even under a root. Deciding
/// reads only metadata (never a byte of the file), so a refused source costs nothing and tells nothing of its content.
/// </summary>
public sealed class DataSourcePolicy
{
    /// <summary>Largest data file a silo loads (into memory, once per silo). <value>1 GiB.</value></summary>
    public const long DefaultMaxBytes = 1L << 30;

    private const int MaxLinkHops = 40;
    private const int MaxPathLength = 4096;
    private static readonly string[] s_forbidden = ["/proc", "/sys", "/dev"];

    private readonly string[] _roots;

    /// <param name="roots">Directories data may come from; relative ones are taken from the working directory.</param>
    /// <param name="maxBytes">Largest file allowed.</param>
    public DataSourcePolicy(IEnumerable<string> roots, long maxBytes = DefaultMaxBytes)
    {
        ArgumentNullException.ThrowIfNull(roots);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 1);
        _roots = [.. roots.Where(r => !string.IsNullOrWhiteSpace(r)).Select(r => Resolve(System.IO.Path.GetFullPath(r))).Distinct(StringComparer.Ordinal)];
        if (_roots.Length == 0)
            throw new ArgumentException("Give at least one data root (a directory data files may come from).", nameof(roots));
        MaxBytes = maxBytes;
    }

    private DataSourcePolicy(long maxBytes)
    {
        _roots = [];
        MaxBytes = maxBytes;
    }

    /// <summary>For local tools (the reference trainer, the demo) that read what their own user named: no root bound, but still regular files only and capped.</summary>
    public static DataSourcePolicy Local { get; } = new(DefaultMaxBytes);

    /// <summary>The roots after resolving links; empty for <see cref="Local"/>.</summary>
    public IReadOnlyList<string> Roots => _roots;

    public long MaxBytes { get; }

    /// <summary>The file <paramref name="source"/> names, or a <see cref="DataSourceRefusedException"/> saying why not. Never opens the file.</summary>
    public DataFile Check(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (source.Length == 0 || source.Length > MaxPathLength || source.Any(char.IsControl))
            throw new DataSourceRefusedException(Printable(source), $"a data source is a path of 1 to {MaxPathLength} characters without control characters.");
        string lexical, real;
        try
        {
            lexical = System.IO.Path.GetFullPath(source);
            real = Resolve(lexical);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException or UnauthorizedAccessException or IOException)
        {
            throw new DataSourceRefusedException(source, "the path cannot be resolved.", e);
        }
        // Where a link leads is told only for links inside a root (the operators' own); elsewhere it would map the file system.
        string where = _roots.Length == 0 || _roots.Any(root => IsUnder(lexical, root)) ? $"it resolves to '{real}', " : "it lies ";
        if (s_forbidden.Any(f => IsUnder(real, f)))
            throw new DataSourceRefusedException(source, $"{where}inside /proc, /sys or /dev, which never hold training data.");
        if (_roots.Length > 0 && !_roots.Any(root => IsUnder(real, root)))
            throw new DataSourceRefusedException(source, $"{where}outside this silo's data roots ({string.Join(", ", _roots.Select(r => $"'{r}'"))}); put the file under a data root or add its directory to TrainingCluster:DataRoots.");
        var (exists, regular, bytes) = FileKind.Of(real);
        if (!exists)
            throw new DataSourceRefusedException(source, "the file does not exist on this silo; every silo hosting a first or last stage needs it at that path.", new FileNotFoundException(null, source));
        if (!regular)
            throw new DataSourceRefusedException(source, "it is not a regular file (a directory, device, FIFO or socket).");
        if (bytes <= 0)
            throw new DataSourceRefusedException(source, "the file is empty.");
        if (bytes > MaxBytes)
            throw new DataSourceRefusedException(source, $"the file is {bytes} bytes, more than the limit of {MaxBytes} a silo loads; use a smaller (sharded) corpus.");
        return new DataFile(source, real, bytes);
    }

    private static bool IsUnder(string path, string root) =>
        path == root || path.StartsWith(root.EndsWith(System.IO.Path.DirectorySeparatorChar) ? root : root + System.IO.Path.DirectorySeparatorChar, StringComparison.Ordinal);

    /// <summary>
    /// The real path of an absolute path: every component that is a symbolic link is replaced by its target and '..'
    /// is applied after that, as the kernel does. Components that do not exist are kept as they are.
    /// </summary>
    internal static string Resolve(string fullPath)
    {
        string root = System.IO.Path.GetPathRoot(fullPath) ?? "/";
        var pending = new Stack<string>(fullPath[root.Length..].Split(System.IO.Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries).Reverse());
        string current = root;
        int hops = 0;
        while (pending.Count > 0)
        {
            string part = pending.Pop();
            if (part == ".")
                continue;
            if (part == "..")
            {
                current = System.IO.Path.GetDirectoryName(current) ?? root;
                continue;
            }
            string next = System.IO.Path.Join(current, part);
            string? target = new FileInfo(next).LinkTarget;
            if (target is null)
            {
                current = next;
                continue;
            }
            if (++hops > MaxLinkHops)
                throw new IOException($"more than {MaxLinkHops} symbolic links.");
            if (System.IO.Path.IsPathRooted(target))
                current = System.IO.Path.GetPathRoot(target) ?? root;
            foreach (string t in target.Split(System.IO.Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries).Reverse())
                pending.Push(t);
            if (pending.Count > MaxPathLength)
                throw new IOException("the path grows without end through its links.");
        }
        return current;
    }

    private static string Printable(string value) => new([.. value.Take(80).Select(c => char.IsControl(c) ? '?' : c)]);
}
