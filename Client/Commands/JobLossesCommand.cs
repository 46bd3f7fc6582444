using System.CommandLine;
using System.Globalization;
using System.Text;
using Cluster.Client.Cli;
using Cluster.Client.Rendering;
using Cluster.Client.Views;
using Cluster.Grains.Interfaces.Jobs;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Cluster.Client.Commands;

/// <summary>
/// <c>job losses &lt;job&gt; [--from S] [--to S] [--tail N] [--limit N] [--csv]</c>: the loss of completed steps of the
/// job's current trajectory, paged from the job server-side (<see cref="ITrainingJobGrain.GetLosses"/>, at most
/// <see cref="PageSize"/> per call) so a long history never travels in one message. <c>--limit</c> caps the steps shown
/// and the footer names the <c>--from</c> of the next page.
/// </summary>
internal static class JobLossesCommand
{
    /// <summary>Losses fetched per call (the job's limit is larger).</summary>
    public const int PageSize = 5000;

    public static Command Create(ConsoleContext context)
    {
        var job = Arguments.JobId(context);
        var from = new Option<long?>("--from") { Description = "First step to show (steps count from 1)" };
        var to = new Option<long?>("--to") { Description = "Last step to show" };
        var tail = new Option<int?>("--tail") { Description = "Only the last N steps of the range" };
        var limit = new Option<int?>("--limit") { Description = "At most N steps from the start of the range (a page; the footer says where the next starts)" };
        var csv = new Option<bool>("--csv") { Description = "Write 'step,loss' CSV with a header line (for spreadsheets and plotting)" };
        var command = new Command("losses", "The loss of every completed step (the full history, paged from the job), as a table, CSV, JSON or YAML") { job, from, to, tail, limit, csv };
        command.SetAction(context, async (parse, ct) =>
        {
            long first = parse.GetValue(from) ?? 1;
            long? lastStep = parse.GetValue(to);
            if (first < 1) throw new UsageException("--from must be 1 or more: steps count from 1.");
            if (lastStep < first) throw new UsageException($"--to {lastStep} is before --from {first}: give a range such as --from 10 --to 20.");
            if (parse.GetValue(tail) is <= 0) throw new UsageException("--tail must be 1 or more (e.g. --tail 50).");
            if (parse.GetValue(limit) is <= 0) throw new UsageException("--limit must be 1 or more (e.g. --limit 1000).");
            if (parse.GetValue(tail) is not null && parse.GetValue(limit) is not null) throw new UsageException("--tail and --limit both cut the range: give one of them.");
            var grain = await (await context.QueriesAsync(parse, ct)).RequireJobAsync(parse.GetRequiredValue(job));

            // The first page says how many steps there are; the range is then fetched page by page.
            var page = await grain.GetLosses(first, PageSize).WaitAsync(ct);
            long total = page.TotalSteps;
            long end = Math.Min(lastStep ?? total, total);
            long start = parse.GetValue(tail) is { } n ? Math.Max(first, end - n + 1) : first;
            if (parse.GetValue(limit) is { } max) end = Math.Min(end, start + max - 1);
            var points = new List<LossPointView>();
            for (long step = start; step <= end;)
            {
                if (page.FromStep != step) page = await grain.GetLosses(step, (int)Math.Min(PageSize, end - step + 1)).WaitAsync(ct);
                if (page.Losses.Count == 0) break; // the trajectory was rewound meanwhile
                for (int i = 0; i < page.Losses.Count && step <= end; i++, step++)
                    points.Add(new LossPointView(step, page.Losses[i]));
                total = page.TotalSteps;
            }
            long? next = points.Count > 0 && points[^1].Step < Math.Min(lastStep ?? total, total) ? points[^1].Step + 1 : null;
            if (parse.GetValue(csv))
            {
                var text = new StringBuilder("step,loss\n");
                foreach (var p in points) text.Append(p.Step.ToString(CultureInfo.InvariantCulture)).Append(',').Append(p.Loss.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
                context.WriteRaw(text.ToString());
                return ExitCodes.Ok;
            }
            context.Write(parse, points, o => Render(points, total, next, o), () => points.Select(p => p.Step.ToString(CultureInfo.InvariantCulture)));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static IRenderable Render(IReadOnlyList<LossPointView> points, long total, long? next, TableOptions options)
    {
        if (points.Count == 0) return TableStyle.Empty(options, total == 0 ? "The job has completed no step yet.\n" : $"No step in that range (the job has completed {total}).\n");
        var table = TableStyle.Create(options, ["step", "loss"]);
        foreach (var p in points) table.AddRow(p.Step.ToString(CultureInfo.InvariantCulture), Formats.Loss(p.Loss));
        if (options.NoHeaders) return table;
        return new Rows(table, new Markup($"steps {points[0].Step}–{points[^1].Step} of {total}{(next is { } n ? $"; next page: --from {n}" : "")}  {Markup.Escape(Sparkline.Of([.. points.Select(p => p.Loss)], 60))}\n"));
    }
}
