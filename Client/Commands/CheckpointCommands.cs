using System.CommandLine;
using Cluster.Client.Cli;
using Cluster.Client.Rendering;
using Spectre.Console;

namespace Cluster.Client.Commands;

/// <summary><c>checkpoint list|create|restore</c>: a job's committed checkpoints.</summary>
internal static class CheckpointCommands
{
    public static Command Create(ConsoleContext context) =>
        new("checkpoint", "A job's committed checkpoints") { List(context), CreateNow(context), Restore(context) };

    private static Command List(ConsoleContext context)
    {
        var job = Arguments.JobId(context);
        var command = new Command("list", "Committed checkpoints of a job, oldest first") { job };
        command.SetAction(context, async (parse, ct) =>
        {
            string id = parse.GetRequiredValue(job);
            var checkpoints = await (await context.QueriesAsync(parse, ct)).GetCheckpointsAsync(id);
            context.Write(parse, checkpoints, o => CheckpointsRenderer.Render(id, checkpoints, o), () => checkpoints.Select(c => c.Step.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command CreateNow(ConsoleContext context)
    {
        var job = Arguments.JobId(context);
        var command = new Command("create", "Commit a durable checkpoint at the next step boundary; returns once committed") { job };
        command.SetAction(context, async (parse, ct) =>
        {
            var checkpoint = await (await context.QueriesAsync(parse, ct)).CheckpointNowAsync(parse.GetRequiredValue(job)).WaitAsync(ct);
            context.Write(parse, checkpoint, _ => Lines.Of(CheckpointsRenderer.Line(checkpoint)), () => [checkpoint.Step.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Restore(ConsoleContext context)
    {
        var job = Arguments.JobId(context);
        var step = new Argument<long>("step") { Description = "Step of a committed checkpoint (see 'checkpoint list')" };
        var command = new Command("restore", "Rewind a job to a committed checkpoint; later steps are trained again") { job, step };
        command.SetAction(context, async (parse, ct) =>
        {
            var view = await (await context.QueriesAsync(parse, ct)).RestoreAsync(parse.GetRequiredValue(job), parse.GetValue(step)).WaitAsync(ct);
            context.Write(parse, view, _ => Lines.Of(JobsRenderer.Line("rewound", view)), () => [view.JobId]);
            return ExitCodes.Ok;
        });
        return command;
    }
}
