using System.CommandLine;
using Cluster.Client.Cli;
using Cluster.Client.Rendering;

namespace Cluster.Client.Commands;

/// <summary><c>queue</c>: jobs waiting for nodes, in the order the scheduler will serve them, and why each waits.</summary>
internal static class QueueCommand
{
    public static Command Create(ConsoleContext context) =>
        ReadCommand.List(context, "queue", "Jobs waiting for nodes in service order: position, team, priority, waiting since, nodes needed, reason",
            (_, q) => q.GetQueueAsync(), QueueRenderer.Render, q => q.JobId);
}
