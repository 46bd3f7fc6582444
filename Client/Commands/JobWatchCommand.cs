using System.CommandLine;
using System.Threading.Channels;
using Cluster.Client.Cli;
using Cluster.Client.Data;
using Cluster.Client.Rendering;
using Cluster.Client.Views;
using Cluster.Grains.Interfaces.Jobs;
using Spectre.Console;

namespace Cluster.Client.Commands;

/// <summary>
/// <c>job watch &lt;id&gt;</c>: a live view until the job ends; exit code by its final state (0 completed, 5 failed,
/// 6 cancelled). On a terminal the screen redraws in place; piped, it prints a line per update and the final screen;
/// with <c>--json</c>, one JSON object per line (progress, event, and last a "final" one).
/// </summary>
internal static class JobWatchCommand
{
    private static readonly TimeSpan LineInterval = TimeSpan.FromSeconds(1);

    public static Command Create(ConsoleContext context)
    {
        var job = Arguments.JobId(context);
        var command = new Command("watch", "Live view of a job until it ends: progress, ETA, tokens/s, replicas, loss chart, cluster events") { job };
        command.SetAction(context, async (parse, ct) =>
        {
            string id = parse.GetRequiredValue(job);
            var queries = await context.QueriesAsync(parse, ct);
            var grain = await queries.RequireJobAsync(id);
            await using var watcher = await JobWatcher.StartAsync(await context.ClientAsync(parse, ct), context.Time, id);
            var state = new WatchState(id);
            state.Apply(await grain.GetStatus(), await grain.GetLossHistory());

            bool structured = context.Format(parse) is OutputFormat.Json or OutputFormat.Yaml;
            if (structured) await RunJson(context, parse, state, watcher.Updates, ct);
            else if (context.Out.Profile.Capabilities.Interactive) await RunLive(context, state, watcher.Updates, ct);
            else await RunLines(context, state, watcher.Updates, ct);

            state.Apply(await grain.GetStatus()); // the final word: checkpoint, error and all
            int code = ExitCode(state.State);
            if (structured) context.WriteStreamItem(parse, new WatchFinalView(state.Final ?? JobView.From(await grain.GetStatus()), code), () => "");
            return code;
        });
        return command;
    }

    public static int ExitCode(JobState state) => state switch
    {
        JobState.Completed => ExitCodes.Ok,
        JobState.Cancelled => ExitCodes.JobCancelled,
        _ => ExitCodes.JobFailed,
    };

    private static async Task RunJson(ConsoleContext context, ParseResult parse, WatchState state, ChannelReader<WatchUpdate> updates, CancellationToken ct)
    {
        while (!state.IsTerminal && await updates.WaitToReadAsync(ct))
        {
            while (updates.TryRead(out var update))
            {
                if (update.Progress is { } p)
                {
                    state.Apply(p);
                    context.WriteStreamItem(parse, p, () => "");
                }
                else if (update.Event is { } e && state.Concerns(e))
                {
                    state.Apply(e);
                    context.WriteStreamItem(parse, e, () => "");
                }
                else if (update.Status is { } s) state.Apply(s);
            }
        }
    }

    private static async Task RunLive(ConsoleContext context, WatchState state, ChannelReader<WatchUpdate> updates, CancellationToken ct)
    {
        int width = context.Out.Profile.Width;
        await context.Out.Live(WatchView.Render(state, width)).AutoClear(false).StartAsync(async live =>
        {
            while (!state.IsTerminal && await updates.WaitToReadAsync(ct))
            {
                while (updates.TryRead(out var update)) Fold(state, update);
                live.UpdateTarget(WatchView.Render(state, width));
            }
        });
    }

    /// <summary>Piped output: a progress line at most every <see cref="LineInterval"/>, and every state change, message, replica count change and event as it comes.</summary>
    internal static async Task RunLines(ConsoleContext context, WatchState state, ChannelReader<WatchUpdate> updates, CancellationToken ct)
    {
        var last = (Step: state.Step, State: state.State, Message: state.Message, At: context.Time.GetUtcNow());
        if (!state.IsTerminal) context.Out.MarkupLine(WatchView.ProgressLine(state, last.At));
        while (!state.IsTerminal && await updates.WaitToReadAsync(ct))
        {
            while (updates.TryRead(out var update))
            {
                var now = context.Time.GetUtcNow();
                if (update.Event is { } e)
                {
                    if (!state.Concerns(e)) continue;
                    state.Apply(e);
                    context.Out.MarkupLine("  " + EventLine.Markup(e));
                    continue;
                }
                if (Fold(state, update) is { } change) context.Out.MarkupLine(WatchView.ReplicaChangeLine(change));
                if (state.Message != last.Message && state.Message is not null)
                    context.Out.MarkupLine(WatchView.MessageLine(state.Message, now));
                if (state.State != last.State || (state.Step != last.Step && now - last.At >= LineInterval))
                {
                    context.Out.MarkupLine(WatchView.ProgressLine(state, now));
                    last = (state.Step, state.State, state.Message, now);
                }
                last.Message = state.Message;
            }
        }
        context.Out.Write(WatchView.Render(state, context.Out.Profile.Width));
    }

    /// <summary>Folds one update into the state; returns the replica count change a progress update shows, if any.</summary>
    private static ReplicaChange? Fold(WatchState state, WatchUpdate update)
    {
        if (update.Progress is { } p) return state.Apply(p);
        if (update.Status is { } s) state.Apply(s);
        else if (update.Event is { } e && state.Concerns(e)) state.Apply(e);
        return null;
    }
}
