using System.CommandLine;
using Cluster.Client.Cli;
using Cluster.Client.Rendering;
using Cluster.Client.Views;
using Cluster.Grains.Interfaces.Jobs;
using Spectre.Console;

namespace Cluster.Client.Commands;

/// <summary>
/// <c>job delete &lt;job&gt; [--force] [--purge] [--reason TEXT]</c>: removes a finished job from the cluster (its state
/// and its place in <c>jobs</c>); committed checkpoints and the event history are kept unless <c>--purge</c>. A job that
/// has not finished is refused unless <c>--force</c>, which cancels it first.
/// </summary>
internal static class JobDeleteCommand
{
    public static Command Create(ConsoleContext context)
    {
        var job = Arguments.JobId(context);
        var force = new Option<bool>("--force") { Description = "Cancel the job first if it has not finished" };
        var purge = new Option<bool>("--purge") { Description = "Also delete its committed checkpoints and its event history" };
        var reason = ReasonOption.Create("Why (recorded in the cluster's events)");
        var command = new Command("delete", "Delete a finished job (checkpoints and history kept unless --purge; --force cancels a running one first)") { job, force, purge, reason };
        command.SetAction(context, async (parse, ct) =>
        {
            string jobId = parse.GetRequiredValue(job);
            string? why = parse.GetValue(reason);
            var grain = await (await context.QueriesAsync(parse, ct)).RequireJobAsync(jobId);
            var status = await grain.GetStatus();
            bool cancelled = false;
            if (status.State is not (JobState.Completed or JobState.Failed or JobState.Cancelled))
            {
                if (!parse.GetValue(force))
                    throw new UsageException($"job {jobId} is {status.State}: only a finished job can be deleted. Cancel it first ('job cancel {jobId}'), or give --force to cancel and delete it.");
                await grain.Cancel(why ?? "deleted with --force").WaitAsync(ct);
                cancelled = true;
            }
            var view = JobDeletionView.From(await grain.Delete(parse.GetValue(purge), why).WaitAsync(ct), cancelled);
            context.Write(parse, view, _ => Lines.Of(new Markup(Line(view))), () => [view.JobId]);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static string Line(JobDeletionView v) =>
        $"deleted job [bold]{Markup.Escape(v.JobId)}[/] ({v.State}{(v.Cancelled ? ", cancelled first" : "")}); " +
        (v.Purged ? $"purged: {v.CheckpointsDeleted} checkpoint(s) and its event history deleted" : $"{v.CheckpointsKept} checkpoint(s) and its event history kept ('job events {Markup.Escape(v.JobId)}')");
}
