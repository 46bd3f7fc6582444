using System.Globalization;
using Cluster.Client.Cli;
using Cluster.Client.Views;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Cluster.Client.Rendering;

/// <summary><c>quota show</c> and <c>quota set</c>: teams' node quotas and what they hold.</summary>
internal static class QuotasRenderer
{
    public static IRenderable Render(IReadOnlyList<QuotaView> quotas) => Render(quotas, TableOptions.Default);

    public static IRenderable Render(IReadOnlyList<QuotaView> quotas, TableOptions options)
    {
        if (quotas.Count == 0) return TableStyle.Empty(options, "No team has a quota or a running job; set one with [bold]quota set <team> <maxNodes>[/].");
        var table = TableStyle.Create(options, ["team", "quota (nodes)", "nodes in use", "running jobs"]);
        foreach (var q in quotas)
        {
            table.AddRow(
                Markup.Escape(q.Team),
                q.MaxNodes?.ToString(CultureInfo.InvariantCulture) ?? "[grey]none[/]",
                q.NodesInUse.ToString(CultureInfo.InvariantCulture),
                q.RunningJobs.ToString(CultureInfo.InvariantCulture));
        }
        return table;
    }

    /// <summary>One line for the result of <c>quota set</c>.</summary>
    public static IRenderable Line(QuotaView q) => new Markup(
        $"team [bold]{Markup.Escape(q.Team)}[/]: " +
        (q.MaxNodes is { } max ? $"quota {max} node(s)" : "no quota") +
        $"; its {q.RunningJobs} running job(s) hold {q.NodesInUse} node(s)");
}
