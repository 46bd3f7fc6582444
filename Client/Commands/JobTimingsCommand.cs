using System.CommandLine;
using System.Globalization;
using Cluster.Client.Cli;
using Cluster.Client.Rendering;
using Cluster.Client.Views;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Cluster.Client.Commands;

/// <summary>
/// <c>job timings &lt;job&gt; [--last N]</c>: where the recent steps' time went (start to start, wall, compute, queueing,
/// messaging, reduce and update), as the job keeps them in memory (a recent window, lost when the job's grain moves).
/// </summary>
internal static class JobTimingsCommand
{
    public static Command Create(ConsoleContext context)
    {
        var job = Arguments.JobId(context);
        var last = new Option<int?>("--last") { Description = "Only the last N steps the job kept" };
        var command = new Command("timings", "Time split of the job's recent steps: wall, compute, queueing, messaging, reduce+update (ms), with p50/p99") { job, last };
        command.SetAction(context, async (parse, ct) =>
        {
            if (parse.GetValue(last) is <= 0) throw new UsageException("--last must be 1 or more (e.g. --last 20).");
            var grain = await (await context.QueriesAsync(parse, ct)).RequireJobAsync(parse.GetRequiredValue(job));
            var timings = StepTimingView.Of(await grain.GetStepTimings());
            if (parse.GetValue(last) is { } n) timings = [.. timings.Skip(Math.Max(0, timings.Count - n))];
            context.Write(parse, timings, o => Render(timings, o), () => timings.Select(t => t.Step.ToString(CultureInfo.InvariantCulture)));
            return ExitCodes.Ok;
        });
        return command;
    }

    public static IRenderable Render(IReadOnlyList<StepTimingView> timings, TableOptions options)
    {
        if (timings.Count == 0) return TableStyle.Empty(options, "The job has no step timings yet (it keeps those of its recent steps while it runs).\n");
        var table = TableStyle.Create(options, ["step", "start→start ms", "wall ms", "compute ms", "queue ms", "messaging ms", "reduce+update ms"]);
        foreach (var t in timings)
            table.AddRow(t.Step.ToString(CultureInfo.InvariantCulture), t.StartToStartMs is { } interval ? Ms(interval) : "-", Ms(t.WallMs), Ms(t.ComputeMs), Ms(t.QueueMs),
                Ms(t.MessagingMs), Ms(t.ReduceAndUpdateMs));
        if (options.NoHeaders) return table;
        var summary = new Markup($"{timings.Count} step(s): wall p50 {Ms(Percentile(timings, 0.50))} ms, p99 {Ms(Percentile(timings, 0.99))} ms; mean " +
            $"compute {Ms(timings.Average(t => t.ComputeMs))}, queueing {Ms(timings.Average(t => t.QueueMs))}, messaging {Ms(timings.Average(t => t.MessagingMs))}, " +
            $"reduce+update {Ms(timings.Average(t => t.ReduceAndUpdateMs))} ms [grey](wall runs from a step's start to its count, which waits for its snapshot while the next step computes; " +
            "start→start is what each step costs; compute, queueing and messaging are summed over micro-batches and stages: they can add up to more than the wall time)[/]\n");
        return new Rows(table, summary);
    }

    /// <summary>Nearest-rank percentile of the wall times.</summary>
    public static double Percentile(IReadOnlyList<StepTimingView> timings, double p)
    {
        var sorted = timings.Select(t => t.WallMs).Order().ToArray();
        return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
    }

    private static string Ms(double ms) => ms.ToString("0.0", CultureInfo.InvariantCulture);
}
