using System.CommandLine;
using System.Globalization;
using Cluster.Client.Cli;
using Cluster.Client.Views;

namespace Cluster.Client.Commands;

/// <summary>
/// <c>job events &lt;job&gt; [--limit N] [--before SEQ | --after SEQ]</c>: the job's recorded history (recoveries,
/// moves, replica changes, operator actions with why), kept by the cluster in a bounded log, one page at a time, oldest
/// first. Events are numbered; the footer says which <c>--before</c>/<c>--after</c> gives the next page.
/// </summary>
internal static class JobEventsCommand
{
    public const int DefaultLimit = EventHistoryPaging.DefaultLimit;

    public static Command Create(ConsoleContext context)
    {
        var job = Arguments.JobId(context);
        var paging = new EventHistoryPaging();
        var command = new Command("events", "The job's recorded history: recoveries, moves, replica changes, operator actions with why (newest page first; --before/--after page)")
            { job };
        paging.AddTo(command);
        command.SetAction(context, async (parse, ct) =>
        {
            var query = paging.Query(parse);
            string jobId = parse.GetRequiredValue(job);
            var page = await (await context.QueriesAsync(parse, ct)).GetJobEventsAsync(jobId, query);
            context.Write(parse, page,
                o => EventHistoryPaging.Render(page.Events, page.FirstKept, page.Last, page.Dropped, page.OlderCursor, page.NewerCursor, o,
                    $"Job {page.JobId} has no recorded event yet."),
                () => page.Events.Select(e => e.Seq.ToString(CultureInfo.InvariantCulture)));
            return ExitCodes.Ok;
        });
        return command;
    }
}
