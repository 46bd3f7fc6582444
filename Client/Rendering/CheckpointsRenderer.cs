using System.Globalization;
using Cluster.Client.Cli;
using Cluster.Client.Views;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Cluster.Client.Rendering;

/// <summary><c>checkpoint list</c> and <c>checkpoint create</c>.</summary>
internal static class CheckpointsRenderer
{
    public static IRenderable Render(string jobId, IReadOnlyList<CheckpointView> checkpoints, TableOptions? options = null)
    {
        options ??= TableOptions.Default;
        if (checkpoints.Count == 0) return TableStyle.Empty(options, $"Job [bold]{Markup.Escape(jobId)}[/] has no committed checkpoint yet.");
        var table = TableStyle.Create(options, ["step", "epoch", "created (UTC)", "shards", "size", "units per stage"]);
        if (!options.NoHeaders) table.Title($"checkpoints of {Markup.Escape(jobId)}");
        foreach (var c in checkpoints)
        {
            table.AddRow(c.Step.ToString(CultureInfo.InvariantCulture), c.Epoch.ToString(CultureInfo.InvariantCulture),
                c.CreatedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
                c.Shards.ToString(CultureInfo.InvariantCulture), Formats.Bytes(c.Bytes), string.Join("/", c.UnitsPerStage));
        }
        return table;
    }

    public static IRenderable Line(CheckpointView c) => new Markup(
        $"checkpoint of job [bold]{Markup.Escape(c.JobId)}[/] committed at step {c.Step} ({c.Shards} shards, {Formats.Bytes(c.Bytes)})");
}
