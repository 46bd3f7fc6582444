namespace Cluster.Client.Shell;

/// <summary>
/// The shell's command history: the last <see cref="Limit"/> lines, kept in a file between sessions
/// (<c>$CLUSTERCTL_HISTORY</c>, else <c>history</c> beside the config file) when one is given. A file that cannot be
/// read or written costs the persistence, never the shell.
/// </summary>
internal sealed class ShellHistory
{
    public const int Limit = 500;

    public const string PathVariable = "CLUSTERCTL_HISTORY";

    private readonly List<string> _lines = [];
    private readonly string? _path;

    public ShellHistory(string? path = null)
    {
        _path = path;
        if (path is null || !File.Exists(path)) return;
        try
        {
            var lines = File.ReadAllLines(path).Where(l => l.Trim().Length > 0).ToArray();
            _lines.AddRange(lines.Skip(Math.Max(0, lines.Length - Limit)));
            if (lines.Length > 2 * Limit) File.WriteAllLines(path, _lines); // keep the file from growing for ever
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // start with no history
        }
    }

    public IReadOnlyList<string> Lines => _lines;

    public static string DefaultPath(string configPath) =>
        Environment.GetEnvironmentVariable(PathVariable) is { Length: > 0 } path ? path : Path.Combine(Path.GetDirectoryName(Path.GetFullPath(configPath))!, "history");

    /// <summary>Remembers a line (not an empty one, not the same as the last one) and appends it to the file.</summary>
    public void Add(string line)
    {
        if (line.Trim().Length == 0 || (_lines.Count > 0 && _lines[^1] == line)) return;
        _lines.Add(line);
        if (_lines.Count > Limit) _lines.RemoveAt(0);
        if (_path is null) return;
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(_path))!);
            bool created = !File.Exists(_path);
            File.AppendAllText(_path, line + "\n");
            if (created && !OperatingSystem.IsWindows()) File.SetUnixFileMode(_path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // the line is still in this session's history
        }
    }

    /// <summary>Index of the latest line at or before <paramref name="from"/> that contains <paramref name="query"/> (case-insensitive), or -1.</summary>
    public int FindBackward(string query, int from)
    {
        if (query.Length == 0) return -1;
        for (int i = Math.Min(from, _lines.Count - 1); i >= 0; i--)
        {
            if (_lines[i].Contains(query, StringComparison.OrdinalIgnoreCase)) return i;
        }
        return -1;
    }
}
