using System.CommandLine;
using System.Globalization;
using Cluster.Client.Cli;
using Cluster.Client.Views;

namespace Cluster.Client.Commands;

/// <summary>
/// <c>node events &lt;node&gt; [--limit N] [--before SEQ | --after SEQ]</c>: one node's recorded history — cordons,
/// uncordons and drains with who and why, the node lost, recovered or joined, straggler flags — from the cluster's
/// bounded node-event log, one page at a time, oldest first (a node that left the cluster keeps its history).
/// </summary>
internal static class NodeEventsCommand
{
    public static Command Create(ConsoleContext context)
    {
        var node = Arguments.NodeId(context);
        var paging = new EventHistoryPaging();
        var command = new Command("events", "The node's recorded history: cordons, drains with who and why, lost, recovered, joined (newest page first; --before/--after page)")
            { node };
        paging.AddTo(command);
        command.SetAction(context, async (parse, ct) =>
        {
            string nodeId = parse.GetRequiredValue(node);
            var query = paging.Query(parse, nodeId);
            var page = await (await context.QueriesAsync(parse, ct)).GetClusterEventsAsync(query);
            Write(context, parse, page, $"Node {nodeId} has no recorded event yet.");
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Prints a page of the cluster's node-event history in the chosen format.</summary>
    public static void Write(ConsoleContext context, ParseResult parse, ClusterEventsView page, string empty) =>
        context.Write(parse, page,
            o => EventHistoryPaging.Render(page.Events, page.FirstKept, page.Last, page.Dropped, page.OlderCursor, page.NewerCursor, o, empty),
            () => page.Events.Select(e => e.Seq.ToString(CultureInfo.InvariantCulture)));
}
