using System.CommandLine;
using System.Globalization;
using Cluster.Client.Cli;
using Cluster.Client.Data;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Cluster.Client.Commands;

/// <summary>
/// A command that only reads: fetch a view, then write it in the format asked for. Lists also take <c>--watch</c>
/// (on a terminal the table redraws in place; otherwise a snapshot every <c>--interval</c>, one JSON array per line
/// with <c>-o json</c>) until Ctrl+C, which ends a watch with exit code 0.
/// </summary>
internal static class ReadCommand
{
    public static Command Create<T>(ConsoleContext context, string name, string description, Func<ClusterQueries, Task<T>> fetch, Func<T, IRenderable> render)
    {
        var command = new Command(name, description);
        command.SetAction(context, async (parse, ct) =>
        {
            var view = await fetch(await context.QueriesAsync(parse, ct));
            context.Write(parse, view, _ => render(view), () => []);
            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command List<T>(ConsoleContext context, string name, string description,
        Func<ParseResult, ClusterQueries, Task<IReadOnlyList<T>>> fetch, Func<IReadOnlyList<T>, TableOptions, IRenderable> render, Func<T, string> id,
        params Option[] filters)
    {
        var watch = new Option<bool>("--watch", "-w") { Description = "Keep showing the list, refreshed every --interval, until Ctrl+C" };
        var interval = new Option<double>("--interval") { Description = "Seconds between refreshes with --watch", DefaultValueFactory = _ => 2 };
        var command = new Command(name, description) { watch, interval };
        foreach (var filter in filters) command.Options.Add(filter);
        command.SetAction(context, async (parse, ct) =>
        {
            var format = context.Format(parse);
            double seconds = parse.GetValue(interval);
            if (seconds is <= 0 or > 3600)
                throw new UsageException($"--interval {seconds.ToString(CultureInfo.InvariantCulture)}: give a number of seconds between 0 and 3600 (e.g. --interval 2).");
            var queries = await context.QueriesAsync(parse, ct);
            var rows = await fetch(parse, queries);
            if (!parse.GetValue(watch))
            {
                context.Write(parse, rows, o => render(rows, o), () => rows.Select(id));
                return ExitCodes.Ok;
            }
            var period = TimeSpan.FromSeconds(seconds);
            try
            {
                if (format is OutputFormat.Table or OutputFormat.Wide && context.Out.Profile.Capabilities.Interactive)
                {
                    var options = context.Tables(parse);
                    await context.Out.Live(render(rows, options)).AutoClear(false).StartAsync(async live =>
                    {
                        while (true)
                        {
                            await Task.Delay(period, context.Time, ct);
                            rows = await fetch(parse, queries).WaitAsync(ct);
                            live.UpdateTarget(render(rows, options));
                        }
                    });
                }
                while (true)
                {
                    WriteSnapshot(context, parse, format, rows, render, id);
                    await Task.Delay(period, context.Time, ct);
                    rows = await fetch(parse, queries).WaitAsync(ct);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return ExitCodes.Ok; // Ctrl+C is how a watch ends
            }
        });
        return command;
    }

    private static void WriteSnapshot<T>(ConsoleContext context, ParseResult parse, OutputFormat format, IReadOnlyList<T> rows,
        Func<IReadOnlyList<T>, TableOptions, IRenderable> render, Func<T, string> id)
    {
        switch (format)
        {
            case OutputFormat.Json:
                context.WriteJsonLine(rows);
                break;
            case OutputFormat.Yaml:
                context.WriteRaw("---\n");
                context.WriteYaml(rows);
                break;
            case OutputFormat.Name:
                context.WriteRaw(string.Concat(rows.Select(r => id(r) + "\n")) + "\n");
                break;
            default:
                if (!parse.GetValue(context.Global.NoHeaders))
                    context.Out.MarkupLine($"[grey]{Markup.Escape(context.Time.GetUtcNow().ToString("HH:mm:ss", CultureInfo.InvariantCulture))}[/]");
                context.Out.Write(render(rows, context.Tables(parse)));
                context.Out.WriteLine();
                break;
        }
    }
}
