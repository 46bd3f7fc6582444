using System.CommandLine;
using Cluster.Client.Cli;
using Cluster.Client.Rendering;

namespace Cluster.Client.Commands;

/// <summary><c>jobs</c>: every job ever submitted, in submission order.</summary>
internal static class JobsCommand
{
    public static Command Create(ConsoleContext context)
    {
        var command = new Command("jobs", "Jobs: state, progress, loss, throughput, ETA");
        command.SetAction(context, async (parse, ct) =>
        {
            var jobs = await (await context.QueriesAsync(parse, ct)).GetJobsAsync();
            if (context.IsJson(parse)) context.WriteJson(jobs);
            else context.Out.Write(JobsRenderer.Render(jobs));
            return ExitCodes.Ok;
        });
        return command;
    }
}
