using Cluster.Client.Views;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Cluster.Client.Rendering;

/// <summary><c>jobs</c>: one row per job.</summary>
internal static class JobsRenderer
{
    public static IRenderable Render(IReadOnlyList<JobView> jobs, string? title = null)
    {
        if (jobs.Count == 0) return new Markup("No jobs yet: submit one with [bold]job submit[/] (see [bold]job submit --help[/]).");
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumns("job", "state", "priority", "team", "step", "progress", "loss", "tokens/s", "ETA", "stages", "replicas", "checkpoint", "coordinator");
        if (title is not null) table.Title(title);
        foreach (var j in jobs)
        {
            table.AddRow(
                Markup.Escape(j.JobId),
                $"[{Formats.Colour(j.State)}]{j.State}[/]",
                j.Priority.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Markup.Escape(j.Team),
                $"{j.CompletedSteps}/{j.TotalSteps}",
                Formats.Number(j.Progress * 100, "0") + "%",
                Formats.Loss(j.LastLoss),
                Formats.Number(j.TokensPerSecond),
                j.IsTerminal ? "-" : Formats.Duration(j.EtaSeconds),
                j.Stages.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Formats.Replicas(j.Replicas, j.MinReplicas, j.MaxReplicas),
                j.LastCheckpointStep?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-",
                Markup.Escape(j.HostSilo ?? "-"));
        }
        return table;
    }

    /// <summary>One line for the result of a job action (submit, pause, resume, cancel, restore).</summary>
    public static IRenderable Line(string verb, JobView j) => new Markup(
        $"{Markup.Escape(verb)} job [bold]{Markup.Escape(j.JobId)}[/]: [{Formats.Colour(j.State)}]{j.State}[/] at step {j.CompletedSteps}/{j.TotalSteps}" +
        (j.Error is null ? "" : $" — [red]{Markup.Escape(j.Error)}[/]"));
}
