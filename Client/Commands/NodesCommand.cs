using System.CommandLine;
using Cluster.Client.Cli;
using Cluster.Client.Rendering;

namespace Cluster.Client.Commands;

/// <summary><c>nodes</c>: every node the scheduler knows, with its latest heartbeat.</summary>
internal static class NodesCommand
{
    public static Command Create(ConsoleContext context) =>
        ReadCommand.Create(context, "nodes", "Nodes: silo, device, state, step time p50/p99, memory, last heartbeat, flags, stages",
            q => q.GetNodesAsync(), NodesRenderer.Render);
}
