using System.CommandLine;
using Cluster.Client.Cli;
using Cluster.Client.Rendering;

namespace Cluster.Client.Commands;

/// <summary><c>status</c>: the cluster in brief.</summary>
internal static class StatusCommand
{
    public static Command Create(ConsoleContext context)
    {
        var command = new Command("status", "Cluster summary: silos, nodes by state, jobs by state");
        command.SetAction(context, async (parse, ct) =>
        {
            var summary = await (await context.QueriesAsync(parse, ct)).GetSummaryAsync();
            if (context.IsJson(parse)) context.WriteJson(summary);
            else context.Out.Write(StatusRenderer.Render(summary));
            return ExitCodes.Ok;
        });
        return command;
    }
}
