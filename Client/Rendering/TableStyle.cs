using Cluster.Client.Cli;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Cluster.Client.Rendering;

/// <summary>The console's tables: rounded borders with a header row, or (<c>--no-headers</c>) bare columns for awk and cut.</summary>
internal static class TableStyle
{
    public static Table Create(TableOptions options, IEnumerable<string> columns)
    {
        var table = new Table();
        if (options.NoHeaders) table.Border(TableBorder.None).HideHeaders();
        else table.Border(TableBorder.Rounded);
        foreach (string column in columns) table.AddColumn(new TableColumn(column) { NoWrap = options.NoHeaders });
        return table;
    }

    /// <summary>What an empty list shows: the hint for people, nothing at all without headers.</summary>
    public static IRenderable Empty(TableOptions options, string markup) => options.NoHeaders ? new Text("") : new Markup(markup);
}
