using System.CommandLine;
using System.Globalization;
using System.Text;
using Cluster.Client.Cli;
using Cluster.Client.Rendering;
using Cluster.Client.Views;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Cluster.Client.Commands;

/// <summary>
/// <c>job losses &lt;job&gt; [--from S] [--to S] [--tail N] [--csv]</c>: the loss of every completed step of the job's
/// current trajectory (the job hands over its whole history; the range is cut here).
/// </summary>
internal static class JobLossesCommand
{
    public static Command Create(ConsoleContext context)
    {
        var job = Arguments.JobId(context);
        var from = new Option<long?>("--from") { Description = "First step to show (steps count from 1)" };
        var to = new Option<long?>("--to") { Description = "Last step to show" };
        var tail = new Option<int?>("--tail") { Description = "Only the last N steps of the range" };
        var csv = new Option<bool>("--csv") { Description = "Write 'step,loss' CSV with a header line (for spreadsheets and plotting)" };
        var command = new Command("losses", "The loss of every completed step (the full history), as a table, CSV, JSON or YAML") { job, from, to, tail, csv };
        command.SetAction(context, async (parse, ct) =>
        {
            long first = parse.GetValue(from) ?? 1;
            long? lastStep = parse.GetValue(to);
            if (first < 1) throw new UsageException("--from must be 1 or more: steps count from 1.");
            if (lastStep < first) throw new UsageException($"--to {lastStep} is before --from {first}: give a range such as --from 10 --to 20.");
            if (parse.GetValue(tail) is <= 0) throw new UsageException("--tail must be 1 or more (e.g. --tail 50).");
            var grain = await (await context.QueriesAsync(parse, ct)).RequireJobAsync(parse.GetRequiredValue(job));
            var losses = await grain.GetLossHistory();
            IReadOnlyList<LossPointView> points = [.. losses.Select((loss, i) => new LossPointView(i + 1, loss)).Where(p => p.Step >= first && (lastStep is null || p.Step <= lastStep))];
            if (parse.GetValue(tail) is { } n) points = [.. points.Skip(Math.Max(0, points.Count - n))];
            if (parse.GetValue(csv))
            {
                var text = new StringBuilder("step,loss\n");
                foreach (var p in points) text.Append(p.Step.ToString(CultureInfo.InvariantCulture)).Append(',').Append(p.Loss.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
                context.WriteRaw(text.ToString());
                return ExitCodes.Ok;
            }
            context.Write(parse, points, o => Render(points, losses.Count, o), () => points.Select(p => p.Step.ToString(CultureInfo.InvariantCulture)));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static IRenderable Render(IReadOnlyList<LossPointView> points, int total, TableOptions options)
    {
        if (points.Count == 0) return TableStyle.Empty(options, total == 0 ? "The job has completed no step yet.\n" : $"No step in that range (the job has completed {total}).\n");
        var table = TableStyle.Create(options, ["step", "loss"]);
        foreach (var p in points) table.AddRow(p.Step.ToString(CultureInfo.InvariantCulture), Formats.Loss(p.Loss));
        if (options.NoHeaders) return table;
        return new Rows(table, new Markup($"steps {points[0].Step}–{points[^1].Step} of {total}  {Markup.Escape(Sparkline.Of([.. points.Select(p => p.Loss)], 60))}\n"));
    }
}
