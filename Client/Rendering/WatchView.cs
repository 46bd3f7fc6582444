using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Cluster.Client.Rendering;

/// <summary><c>job watch</c>'s screen: progress bar with ETA, throughput, replicas, loss chart, replica count changes and the job's latest events.</summary>
internal static class WatchView
{
    public const int ChartHeight = 6;

    public static IRenderable Render(WatchState s, int width)
    {
        int inner = Math.Max(40, width - 4);
        double fraction = s.TotalSteps > 0 ? (double)s.Step / s.TotalSteps : 0;
        var lines = new List<IRenderable>
        {
            new Markup($"{Bar(fraction, inner - 30)} [bold]{s.Step}[/]/{s.TotalSteps} {Formats.Number(fraction * 100, "0")}%  ETA {(s.IsTerminal ? "-" : Formats.Duration(s.EtaSeconds))}"),
            new Markup($"loss [bold]{Formats.Loss(s.Loss)}[/]   tokens/s [bold]{Formats.Number(s.TokensPerSecond)}[/]   replicas [bold]{Formats.Replicas(s.Replicas, s.MinReplicas, s.MaxReplicas)}[/]   epoch {s.Epoch}   last checkpoint {(s.LastCheckpointStep?.ToString(CultureInfo.InvariantCulture) ?? "-")}"),
            new Text(""),
            new Text(LossChart.Render(s.Losses, inner - 10, ChartHeight), new Style(Color.Blue)),
        };
        if (s.Message is not null) lines.Add(new Markup($"[grey]{Markup.Escape(s.Message)}[/]"));
        if (s.ReplicaChanges.Count > 0)
        {
            lines.Add(new Text(""));
            lines.AddRange(s.ReplicaChanges.Select(c => new Markup(ReplicaChangeMarkup(c))));
        }
        if (s.Events.Count > 0)
        {
            lines.Add(new Text(""));
            lines.AddRange(s.Events.Select(e => new Markup(EventLine.Markup(e))));
        }
        return new Panel(new Rows(lines))
            .Header($" job {Markup.Escape(s.JobId)} · [{Formats.Colour(s.State)}]{s.State}[/] ")
            .Border(BoxBorder.Rounded)
            .Expand();
    }

    /// <summary>A progress bar in markup, <paramref name="width"/> cells wide.</summary>
    public static string Bar(double fraction, int width)
    {
        width = Math.Max(10, width);
        int done = (int)Math.Round(Math.Clamp(fraction, 0, 1) * width);
        return $"[green]{new string('━', done)}[/][grey]{new string('━', width - done)}[/]";
    }

    /// <summary>One line per progress update, for a console that is not a terminal (logs, pipes).</summary>
    public static string ProgressLine(WatchState s, DateTimeOffset now) =>
        $"  {Formats.Time(now)} [{Formats.Colour(s.State)}]{s.State}[/] step {s.Step}/{s.TotalSteps}  loss {Formats.Loss(s.Loss)}  " +
        $"{Formats.Number(s.TokensPerSecond)} tokens/s  replicas {Formats.Replicas(s.Replicas, s.MinReplicas, s.MaxReplicas)}  ETA {(s.IsTerminal ? "-" : Formats.Duration(s.EtaSeconds))}";

    /// <summary>A replica count change between two progress updates, for a console that is not a terminal.</summary>
    public static string ReplicaChangeLine(ReplicaChange c) => $"  {Formats.Time(c.At)} {ReplicaChangeMarkup(c)}";

    /// <summary>"step 12: replicas 2 → 1", yellow when the job shrank, green when it grew.</summary>
    public static string ReplicaChangeMarkup(ReplicaChange c) =>
        $"[{(c.IsShrink ? "yellow" : "green")}]step {c.Step}: replicas {c.From} → {c.To}[/]";

    /// <summary>The job's own word (placing, checkpointing, recovering …), under the progress lines.</summary>
    public static string MessageLine(string message, DateTimeOffset now) => $"  [grey]{Formats.Time(now)}   {Markup.Escape(message)}[/]";
}
