using System.CommandLine;
using System.Globalization;
using Cluster.Client.Cli;
using Cluster.Client.Rendering;
using Cluster.Client.Views;
using Cluster.Grains.Interfaces.Events;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Cluster.Client.Commands;

/// <summary>
/// <c>job events &lt;job&gt; [--limit N] [--before SEQ | --after SEQ]</c>: the job's recorded history (recoveries,
/// moves, replica changes, operator actions with why), kept by the cluster in a bounded log, one page at a time, oldest
/// first. Events are numbered; the footer says which <c>--before</c>/<c>--after</c> gives the next page.
/// </summary>
internal static class JobEventsCommand
{
    public const int DefaultLimit = 50;

    /// <summary>The most events one page holds (the cluster's limit).</summary>
    private const int MaxLimit = 1000;

    public static Command Create(ConsoleContext context)
    {
        var job = Arguments.JobId(context);
        var limit = new Option<int>("--limit") { Description = $"Events per page (1–{MaxLimit}) [default: {DefaultLimit}]", DefaultValueFactory = _ => DefaultLimit };
        var before = new Option<long?>("--before") { Description = "Only events numbered below this (the page before it)" };
        var after = new Option<long?>("--after") { Description = "Only events numbered above this (the page after it)" };
        var command = new Command("events", "The job's recorded history: recoveries, moves, replica changes, operator actions with why (newest page first; --before/--after page)")
            { job, limit, before, after };
        command.SetAction(context, async (parse, ct) =>
        {
            int n = parse.GetValue(limit);
            if (n is < 1 or > MaxLimit) throw new UsageException($"--limit {n}: give 1 to {MaxLimit} events per page (e.g. --limit 100).");
            long? below = parse.GetValue(before), above = parse.GetValue(after);
            if (below is < 1 || above is < 0) throw new UsageException("--before and --after take an event number from 'job events' (events count from 1).");
            if (below is { } b && above is { } a && b <= a + 1) throw new UsageException($"--after {a} --before {b} leaves no event between them: give a wider range.");
            string jobId = parse.GetRequiredValue(job);
            var page = await (await context.QueriesAsync(parse, ct)).GetJobEventsAsync(jobId, new JobEventQuery(n, below, above));
            context.Write(parse, page, o => Render(page, o), () => page.Events.Select(e => e.Seq.ToString(CultureInfo.InvariantCulture)));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static IRenderable Render(JobEventsView page, TableOptions options)
    {
        if (page.Events.Count == 0)
            return TableStyle.Empty(options, page.Last == 0 ? $"Job {Markup.Escape(page.JobId)} has no recorded event yet.\n" : "No recorded event in that range.\n");
        string[] columns = options.Wide
            ? ["#", "time", "kind", "epoch", "step", "lost", "seconds", "node", "message", "reason"]
            : ["#", "time", "kind", "step", "message"];
        var table = TableStyle.Create(options, columns);
        foreach (var e in page.Events)
        {
            var row = new List<string> { e.Seq.ToString(CultureInfo.InvariantCulture), Formats.Time(e.At), $"[bold]{e.Kind}[/]" };
            if (options.Wide) row.Add(e.Epoch.ToString(CultureInfo.InvariantCulture));
            row.Add(e.Step.ToString(CultureInfo.InvariantCulture));
            if (options.Wide)
            {
                row.Add(e.StepsLost.ToString(CultureInfo.InvariantCulture));
                row.Add(e.Seconds is { } s ? s.ToString("0.00", CultureInfo.InvariantCulture) : "-");
                row.Add(Markup.Escape(e.NodeId ?? "-"));
            }
            row.Add(Markup.Escape(e.Message));
            if (options.Wide) row.Add(Markup.Escape(e.Reason ?? "-"));
            table.AddRow([.. row]);
        }
        if (options.NoHeaders) return table;
        string kept = $"events {page.Events[0].Seq}–{page.Events[^1].Seq} of {page.FirstKept}–{page.Last} kept" + (page.Dropped > 0 ? $" ({page.Dropped} older dropped)" : "");
        string more = (page.OlderCursor is { } older ? $"; older: --before {older}" : "") + (page.NewerCursor is { } newer ? $"; newer: --after {newer}" : "");
        return new Rows(table, new Markup($"[grey]{kept}{more}[/]\n"));
    }
}
