using System.CommandLine;
using Cluster.Client.Cli;
using Cluster.Client.Rendering;
using Cluster.Client.Views;
using Cluster.Grains.Interfaces.Jobs;

namespace Cluster.Client.Commands;

/// <summary>
/// <c>job update &lt;job&gt; [--priority N] [--max-replicas N] [--reason TEXT]</c>: changes a job that has not finished,
/// on the cluster: the scheduler orders its queue (and preemption) by the new priority at once; the replica maximum
/// bounds growth, and a job running more replicas shrinks to it at its next step boundary.
/// </summary>
internal static class JobUpdateCommand
{
    public static Command Create(ConsoleContext context)
    {
        var job = Arguments.JobId(context);
        var priority = new Option<int?>("--priority") { Description = "New priority, -1000 to 1000 (higher runs first, preempting lower)" };
        var maxReplicas = new Option<int?>("--max-replicas") { Description = "New replica maximum (≥ the job's minimum; an exact split of its micro-batches)" };
        var reason = ReasonOption.Create("Why (recorded in the job's events)");
        var command = new Command("update", "Change a job's priority or replica maximum on the cluster (applied at once)") { job, priority, maxReplicas, reason };
        command.SetAction(context, async (parse, ct) =>
        {
            int? newPriority = parse.GetValue(priority), newMax = parse.GetValue(maxReplicas);
            if (newPriority is null && newMax is null)
                throw new UsageException("nothing to update: give --priority N and/or --max-replicas N.");
            var grain = await (await context.QueriesAsync(parse, ct)).RequireJobAsync(parse.GetRequiredValue(job));
            var view = JobView.From(await grain.Update(new JobUpdate(newPriority, newMax, parse.GetValue(reason))).WaitAsync(ct));
            context.Write(parse, view, _ => Lines.Of(JobsRenderer.Line($"updated (priority {view.Priority}, replicas {view.MinReplicas}–{view.MaxReplicas})", view)), () => [view.JobId]);
            return ExitCodes.Ok;
        });
        return command;
    }
}
