using System.CommandLine;
using System.Threading.Channels;
using Cluster.Client.Cli;
using Cluster.Client.Data;
using Cluster.Client.Rendering;
using Cluster.Client.Views;
using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Spectre.Console;

namespace Cluster.Client.Commands;

/// <summary>
/// <c>events --follow | --for &lt;seconds&gt;</c>: the cluster's events as they happen; one of the two is required
/// rather than printing a misleading empty list. <c>events --history [--node N] [--limit N] [--before|--after SEQ]</c>:
/// the cluster's recorded node events (cordons, drains, nodes lost and joined — events with no job), from its bounded
/// log; a job's recorded history is <c>job events &lt;job&gt;</c>.
/// </summary>
internal static class EventsCommand
{
    public static Command Create(ConsoleContext context)
    {
        var follow = new Option<bool>("--follow", "-f") { Description = "Print events until Ctrl+C" };
        var duration = new Option<double?>("--for") { Description = "Print events for this many seconds, then exit 0" };
        var job = new Option<string?>("--job") { Description = "Only events of this job" };
        var node = new Option<string?>("--node") { Description = "Only events of this node" };
        var history = new Option<bool>("--history") { Description = "The recorded node events (cordons, drains, nodes lost and joined), a page at a time; a job's: 'job events <job>'" };
        var paging = new EventHistoryPaging();
        var command = new Command("events", "Cluster events (failures, decisions, recoveries, operator actions) as they happen, or the recorded node events (--history)")
            { follow, duration, job, node, history };
        paging.AddTo(command);
        command.SetAction(context, async (parse, ct) =>
        {
            double? seconds = parse.GetValue(duration);
            if (parse.GetValue(history))
            {
                if (parse.GetValue(follow) || seconds is not null)
                    throw new UsageException("--history reads the recorded events; --follow and --for watch live ones: give one or the other.");
                if (parse.GetValue(job) is { } historyOf)
                    throw new UsageException($"the cluster's history holds node events; a job's recorded history is 'job events {historyOf}'.");
                string? historyNode = parse.GetValue(node);
                var page = await (await context.QueriesAsync(parse, ct)).GetClusterEventsAsync(paging.Query(parse, historyNode));
                NodeEventsCommand.Write(context, parse, page, historyNode is null ? "The cluster has no recorded node event yet." : $"Node {historyNode} has no recorded event yet.");
                return ExitCodes.Ok;
            }
            if (!parse.GetValue(follow) && seconds is null)
                throw new UsageException("give --follow (until Ctrl+C) or --for <seconds> to watch events as they happen, or --history for the recorded node events (a job's: 'job events <job>').");
            if (seconds is <= 0)
                throw new UsageException($"--for {seconds}: give a positive number of seconds.");
            string? jobId = parse.GetValue(job), nodeId = parse.GetValue(node);

            var channel = Channel.CreateUnbounded<EventView>();
            var client = await context.ClientAsync(parse, ct);
            await using var subscription = await StreamSubscription<ClusterEvent>.StartAsync(client, JobStreams.Provider, JobStreams.EventsNamespace, JobStreams.EventsKey,
                channel.Writer, e => (jobId is null || e.JobId == jobId) && (nodeId is null || e.NodeId == nodeId) ? EventView.From(e) : null);
            // On standard error, so that standard output holds only events (one JSON object per line with --json).
            context.Error.MarkupLine($"[grey]following cluster events{(seconds is { } s ? $" for {s.ToString(System.Globalization.CultureInfo.InvariantCulture)} s" : " (Ctrl+C to stop)")}…[/]");

            using var window = CancellationTokenSource.CreateLinkedTokenSource(ct);
            if (seconds is { } limit) window.CancelAfter(TimeSpan.FromSeconds(limit));
            try
            {
                await foreach (var e in channel.Reader.ReadAllAsync(window.Token))
                {
                    context.WriteStreamItem(parse, e, () => EventLine.Markup(e));
                }
            }
            catch (OperationCanceledException)
            {
                // the --for window ended, or Ctrl+C ended --follow: both are how this command is meant to stop
            }
            return ExitCodes.Ok;
        });
        return command;
    }
}
