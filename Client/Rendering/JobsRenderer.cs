using System.Globalization;
using Cluster.Client.Cli;
using Cluster.Client.Views;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Cluster.Client.Rendering;

/// <summary><c>jobs</c>: one row per job; <c>-o wide</c> adds epoch, last update and error.</summary>
internal static class JobsRenderer
{
    private static readonly string[] s_columns = ["job", "state", "priority", "team", "step", "progress", "loss", "tokens/s", "ETA", "stages", "replicas", "checkpoint", "coordinator"];

    private static readonly string[] s_wideColumns = ["epoch", "updated (UTC)", "error"];

    public static IRenderable Render(IReadOnlyList<JobView> jobs, TableOptions? options = null, string? title = null)
    {
        options ??= TableOptions.Default;
        if (jobs.Count == 0) return TableStyle.Empty(options, "No jobs yet: submit one with [bold]job submit[/] (see [bold]job submit --help[/]).");
        var table = TableStyle.Create(options, options.Wide ? [.. s_columns, .. s_wideColumns] : s_columns);
        if (title is not null) table.Title(title);
        foreach (var j in jobs)
        {
            var row = new List<string>
            {
                Markup.Escape(j.JobId),
                $"[{Formats.Colour(j.State)}]{j.State}[/]",
                j.Priority.ToString(CultureInfo.InvariantCulture),
                Markup.Escape(j.Team),
                $"{j.CompletedSteps}/{j.TotalSteps}",
                Formats.Number(j.Progress * 100, "0") + "%",
                Formats.Loss(j.LastLoss),
                Formats.Number(j.TokensPerSecond),
                j.IsTerminal ? "-" : Formats.Duration(j.EtaSeconds),
                j.Stages.ToString(CultureInfo.InvariantCulture),
                Formats.Replicas(j.Replicas, j.MinReplicas, j.MaxReplicas),
                j.LastCheckpointStep?.ToString(CultureInfo.InvariantCulture) ?? "-",
                Markup.Escape(j.HostSilo ?? "-"),
            };
            if (options.Wide)
            {
                row.Add(j.Epoch.ToString(CultureInfo.InvariantCulture));
                row.Add(j.UpdatedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture));
                row.Add(j.Error is null ? "-" : $"[red]{Markup.Escape(j.Error)}[/]");
            }
            table.AddRow([.. row]);
        }
        return table;
    }

    /// <summary>One line for the result of a job action (submit, pause, resume, cancel, restore).</summary>
    public static IRenderable Line(string verb, JobView j) => new Markup(
        $"{Markup.Escape(verb)} job [bold]{Markup.Escape(j.JobId)}[/]: [{Formats.Colour(j.State)}]{j.State}[/] at step {j.CompletedSteps}/{j.TotalSteps}" +
        (j.Error is null ? "" : $" — [red]{Markup.Escape(j.Error)}[/]"));
}
