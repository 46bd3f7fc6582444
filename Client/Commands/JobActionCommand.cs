using System.CommandLine;
using Cluster.Client.Cli;
using Cluster.Client.Rendering;
using Cluster.Client.Views;
using Cluster.Grains.Interfaces.Jobs;
using Spectre.Console;

namespace Cluster.Client.Commands;

/// <summary><c>job pause|resume|cancel &lt;id&gt;</c>: one operator action on a job; prints the job's status after it.</summary>
internal static class JobActionCommand
{
    public static Command Pause(ConsoleContext context) =>
        Create(context, "pause", "Checkpoint at the next step boundary, free the job's nodes and wait (returns once paused)", "paused", j => j.Pause());

    public static Command Resume(ConsoleContext context) =>
        Create(context, "resume", "Place a paused job again and carry on from its pause checkpoint", "resumed", j => j.Resume());

    public static Command Cancel(ConsoleContext context) =>
        Create(context, "cancel", "Stop a job for good at the next step boundary (committed checkpoints stay)", "cancelled", j => j.Cancel());

    private static Command Create(ConsoleContext context, string name, string description, string verb, Func<ITrainingJobGrain, Task<JobStatus>> action)
    {
        var job = Arguments.JobId(context);
        var command = new Command(name, description) { job };
        command.SetAction(context, async (parse, ct) =>
        {
            var grain = await (await context.QueriesAsync(parse, ct)).RequireJobAsync(parse.GetRequiredValue(job));
            var view = JobView.From(await action(grain).WaitAsync(ct));
            context.Write(parse, view, _ => Lines.Of(JobsRenderer.Line(verb, view)), () => [view.JobId]);
            return ExitCodes.Ok;
        });
        return command;
    }
}
