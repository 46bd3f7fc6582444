using System.Globalization;
using Cluster.Client.Views;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Cluster.Client.Rendering;

/// <summary><c>queue</c>: waiting jobs in service order.</summary>
internal static class QueueRenderer
{
    public static IRenderable Render(IReadOnlyList<QueuedJobView> queue)
    {
        if (queue.Count == 0) return new Markup("No job is waiting for nodes.");
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumns("#", "job", "team", "priority", "waiting since", "nodes needed", "reason");
        foreach (var q in queue)
        {
            table.AddRow(
                q.Position.ToString(CultureInfo.InvariantCulture),
                Markup.Escape(q.JobId),
                Markup.Escape(q.Team),
                q.Priority.ToString(CultureInfo.InvariantCulture),
                $"{Formats.Time(q.WaitingSince)} ({Formats.Duration(q.WaitingSeconds)})",
                q.NodesNeeded.ToString(CultureInfo.InvariantCulture),
                Markup.Escape(q.Reason));
        }
        return table;
    }
}
