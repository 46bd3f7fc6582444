using System.Globalization;
using Cluster.Client.Cli;
using Cluster.Client.Views;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Cluster.Client.Rendering;

/// <summary><c>queue</c>: waiting jobs in service order.</summary>
internal static class QueueRenderer
{
    public static IRenderable Render(IReadOnlyList<QueuedJobView> queue) => Render(queue, TableOptions.Default);

    public static IRenderable Render(IReadOnlyList<QueuedJobView> queue, TableOptions options)
    {
        if (queue.Count == 0) return TableStyle.Empty(options, "No job is waiting for nodes.");
        var table = TableStyle.Create(options, options.Wide
            ? ["#", "job", "team", "priority", "waiting since", "nodes needed", "reason", "submitted (UTC)"]
            : ["#", "job", "team", "priority", "waiting since", "nodes needed", "reason"]);
        foreach (var q in queue)
        {
            var row = new List<string>
            {
                q.Position.ToString(CultureInfo.InvariantCulture),
                Markup.Escape(q.JobId),
                Markup.Escape(q.Team),
                q.Priority.ToString(CultureInfo.InvariantCulture),
                $"{Formats.Time(q.WaitingSince)} ({Formats.Duration(q.WaitingSeconds)})",
                q.NodesNeeded.ToString(CultureInfo.InvariantCulture),
                Markup.Escape(q.Reason),
            };
            if (options.Wide) row.Add(q.SubmittedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture));
            table.AddRow([.. row]);
        }
        return table;
    }
}
