using System.CommandLine;
using Cluster.Client.Cli;
using Cluster.Client.Rendering;

namespace Cluster.Client.Commands;

/// <summary><c>status</c>: the cluster in brief.</summary>
internal static class StatusCommand
{
    public static Command Create(ConsoleContext context) =>
        ReadCommand.Create(context, "status", "Cluster summary: silos, nodes by state, jobs by state", q => q.GetSummaryAsync(), StatusRenderer.Render);
}
