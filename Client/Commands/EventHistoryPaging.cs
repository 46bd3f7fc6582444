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
/// The paging options and the table of a recorded history — a job's (<c>job events</c>) or the cluster's node events
/// (<c>events --history</c>, <c>node events</c>): <c>--limit N [--before SEQ | --after SEQ]</c>, oldest first, with a
/// footer naming the cursor of the next page either way.
/// </summary>
internal sealed class EventHistoryPaging
{
    public const int DefaultLimit = 50;

    /// <summary>The most events one page holds (the cluster's limit).</summary>
    public const int MaxLimit = 1000;

    public Option<int> Limit { get; } = new("--limit") { Description = $"Events per page (1–{MaxLimit}) [default: {DefaultLimit}]", DefaultValueFactory = _ => DefaultLimit };

    public Option<long?> Before { get; } = new("--before") { Description = "Only events numbered below this (the page before it)" };

    public Option<long?> After { get; } = new("--after") { Description = "Only events numbered above this (the page after it)" };

    public void AddTo(Command command)
    {
        command.Options.Add(Limit);
        command.Options.Add(Before);
        command.Options.Add(After);
    }

    /// <summary>The query the options ask for; a bad limit or cursor is a <see cref="UsageException"/>.</summary>
    public JobEventQuery Query(ParseResult parse, string? nodeId = null)
    {
        int n = parse.GetValue(Limit);
        if (n is < 1 or > MaxLimit) throw new UsageException($"--limit {n}: give 1 to {MaxLimit} events per page (e.g. --limit 100).");
        long? below = parse.GetValue(Before), above = parse.GetValue(After);
        if (below is < 1 || above is < 0) throw new UsageException("--before and --after take an event number from the history's first column (events count from 1).");
        if (below is { } b && above is { } a && b <= a + 1) throw new UsageException($"--after {a} --before {b} leaves no event between them: give a wider range.");
        return new JobEventQuery(n, below, above, nodeId);
    }

    /// <summary>The page as a table (wide: every field) with a footer; <paramref name="empty"/> when the history holds nothing yet.</summary>
    public static IRenderable Render(IReadOnlyList<JobEventView> events, long firstKept, long last, long dropped, long? olderCursor, long? newerCursor,
        TableOptions options, string empty)
    {
        if (events.Count == 0)
            return TableStyle.Empty(options, last == 0 ? $"{Markup.Escape(empty)}\n" : "No recorded event in that range.\n");
        string[] columns = options.Wide
            ? ["#", "time", "kind", "epoch", "step", "lost", "seconds", "node", "message", "reason", "by"]
            : ["#", "time", "kind", "step", "message"];
        var table = TableStyle.Create(options, columns);
        foreach (var e in events)
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
            if (options.Wide)
            {
                row.Add(Markup.Escape(e.Reason ?? "-"));
                row.Add(Markup.Escape(e.Principal ?? "-"));
            }
            table.AddRow([.. row]);
        }
        if (options.NoHeaders) return table;
        string kept = $"events {events[0].Seq}–{events[^1].Seq} of {firstKept}–{last} kept" + (dropped > 0 ? $" ({dropped} older dropped)" : "");
        string more = (olderCursor is { } older ? $"; older: --before {older}" : "") + (newerCursor is { } newer ? $"; newer: --after {newer}" : "");
        return new Rows(table, new Markup($"[grey]{kept}{more}[/]\n"));
    }
}
