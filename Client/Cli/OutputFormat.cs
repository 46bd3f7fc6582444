namespace Cluster.Client.Cli;

/// <summary><c>-o</c>: how a command writes what it read (docs/console.md, "Output").</summary>
internal enum OutputFormat
{
    /// <summary>A table for people (the default).</summary>
    Table,

    /// <summary>The table with more columns.</summary>
    Wide,

    /// <summary>One JSON document (streams: one object per line).</summary>
    Json,

    /// <summary>The same document as YAML.</summary>
    Yaml,

    /// <summary>Ids only, one per line (for xargs and shell loops).</summary>
    Name,
}
