using System.CommandLine;
using Cluster.Client.Cli;
using Cluster.Client.Rendering;
using Cluster.Client.Views;
using Cluster.Grains.Interfaces.Jobs;
using Spectre.Console;

namespace Cluster.Client.Commands;

/// <summary>
/// <c>job pause|resume|cancel &lt;id&gt; [--reason TEXT]</c>: one operator action on a job; prints the job's status after
/// it. The reason of a pause or cancel is recorded on its event in the job's history.
/// </summary>
internal static class JobActionCommand
{
    public static Command Pause(ConsoleContext context) =>
        Create(context, "pause", "Checkpoint at the next step boundary, free the job's nodes and wait (returns once paused)", "paused", (j, why) => j.Pause(why), withReason: true);

    public static Command Resume(ConsoleContext context) =>
        Create(context, "resume", "Place a paused job again and carry on from its pause checkpoint", "resumed", (j, _) => j.Resume(), withReason: false);

    public static Command Cancel(ConsoleContext context) =>
        Create(context, "cancel", "Stop a job for good at the next step boundary (committed checkpoints stay)", "cancelled", (j, why) => j.Cancel(why), withReason: true);

    private static Command Create(ConsoleContext context, string name, string description, string verb, Func<ITrainingJobGrain, string?, Task<JobStatus>> action,
        bool withReason)
    {
        var job = Arguments.JobId(context);
        var reason = ReasonOption.Create("Why (recorded on the action's event in the job's history)");
        var command = new Command(name, description) { job };
        if (withReason) command.Options.Add(reason);
        command.SetAction(context, async (parse, ct) =>
        {
            var grain = await (await context.QueriesAsync(parse, ct)).RequireJobAsync(parse.GetRequiredValue(job));
            var view = JobView.From(await action(grain, withReason ? parse.GetValue(reason) : null).WaitAsync(ct));
            context.Write(parse, view, _ => Lines.Of(JobsRenderer.Line(verb, view)), () => [view.JobId]);
            return ExitCodes.Ok;
        });
        return command;
    }
}
