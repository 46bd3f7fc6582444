namespace Cluster.Kernels.Data;

/// <summary>
/// A data source may not or cannot be used on this silo: outside the data roots, not a regular file, too large, or
/// changed while it was read. The message names the source as given and the rule; it never quotes the file's content.
/// An <see cref="IOException"/>, so callers that treat unreadable files as "not usable here" keep doing so.
/// </summary>
public sealed class DataSourceRefusedException : IOException
{
    public DataSourceRefusedException(string source, string problem, Exception? inner = null)
        : base($"Data source '{source}' is refused: {problem}", inner)
    {
        DataSource = source;
        Problem = problem;
    }

    public string DataSource { get; }

    public string Problem { get; }
}
