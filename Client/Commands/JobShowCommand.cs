using System.CommandLine;
using Cluster.Client.Cli;
using Cluster.Client.Rendering;

namespace Cluster.Client.Commands;

/// <summary><c>job show &lt;id&gt;</c>: progress, placement and loss history in brief.</summary>
internal static class JobShowCommand
{
    public static Command Create(ConsoleContext context)
    {
        var job = Arguments.JobId(context);
        var command = new Command("show", "A job's progress, replicas, spec, placement and loss history") { job };
        command.SetAction(context, async (parse, ct) =>
        {
            var detail = await (await context.QueriesAsync(parse, ct)).GetJobDetailAsync(parse.GetRequiredValue(job));
            context.Write(parse, detail, _ => JobDetailRenderer.Render(detail), () => [detail.Job.JobId]);
            return ExitCodes.Ok;
        });
        return command;
    }
}
