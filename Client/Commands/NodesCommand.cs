using System.CommandLine;
using Cluster.Client.Cli;
using Cluster.Client.Rendering;

namespace Cluster.Client.Commands;

/// <summary><c>nodes</c>: every node the scheduler knows, with its latest heartbeat.</summary>
internal static class NodesCommand
{
    public static Command Create(ConsoleContext context)
    {
        var command = new Command("nodes", "Nodes: silo, device, state, step time p50/p99, memory, last heartbeat, flags, stages");
        command.SetAction(context, async (parse, ct) =>
        {
            var nodes = await (await context.QueriesAsync(parse, ct)).GetNodesAsync();
            if (context.IsJson(parse)) context.WriteJson(nodes);
            else context.Out.Write(NodesRenderer.Render(nodes));
            return ExitCodes.Ok;
        });
        return command;
    }
}
