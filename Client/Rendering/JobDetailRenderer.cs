using System.Globalization;
using Cluster.Client.Views;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Cluster.Client.Rendering;

/// <summary><c>job show</c>: progress, model and schedule, placement and the loss history in brief.</summary>
internal static class JobDetailRenderer
{
    public static IRenderable Render(JobDetailView d)
    {
        var j = d.Job;
        var spec = d.Spec;
        var m = spec.Model;
        var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn()
            .AddRow("[bold]state[/]", $"[{Formats.Colour(j.State)}]{j.State}[/] (epoch {j.Epoch}){(j.Error is null ? "" : $" — [red]{Markup.Escape(j.Error)}[/]")}")
            .AddRow("[bold]progress[/]", $"{WatchView.Bar(j.Progress, 30)} {j.CompletedSteps}/{j.TotalSteps} ({Formats.Number(j.Progress * 100, "0")}%)"
                + (j.IsTerminal ? "" : $", ETA {Formats.Duration(j.EtaSeconds)}, {Formats.Number(j.TokensPerSecond)} tokens/s"))
            .AddRow("[bold]queue[/]", $"priority {j.Priority}, team {Markup.Escape(j.Team)}")
            .AddRow("[bold]replicas[/]", ReplicasLine(j, spec.MicroBatches))
            .AddRow("[bold]model[/]", $"{m.Layers} layers × d_model {m.DModel}, {m.Heads} heads, context {m.ContextLength}, vocab {m.VocabSize}")
            .AddRow("[bold]schedule[/]", $"{spec.Stages} stages, {spec.MicroBatches} micro-batches × {spec.MicroBatchSize} ({Markup.Escape(spec.Schedule)}), checkpoint every {spec.CheckpointInterval} steps, data {Markup.Escape(spec.DataSource)}")
            .AddRow("[bold]checkpoint[/]", j.LastCheckpointStep is { } step ? $"last committed at step {step}" : "none committed yet")
            .AddRow("[bold]coordinator[/]", Markup.Escape(j.HostSilo ?? "-"))
            .AddRow("[bold]loss[/]", LossLine(d.Loss));

        var parts = new List<IRenderable> { new Panel(grid).Header($"job {Markup.Escape(j.JobId)}").Border(BoxBorder.Rounded) };
        parts.Add(d.Placement.Count > 0 ? Placement(d) : new Markup("[grey]no placement (the job holds no nodes now)[/]"));
        if (d.Notes is { Count: > 0 } notes)
            parts.Add(new Markup("[bold]operator notes[/]\n" + string.Join("\n", notes.Select(n => $"  [yellow]![/] {Markup.Escape(n)}"))));
        return new Rows(parts);
    }

    /// <summary>"2 running, elastic 1–4, 2 of the 4 micro-batches each"; just "1 running" for a job of one replica.</summary>
    private static string ReplicasLine(JobView j, int microBatches) =>
        $"{j.Replicas} running" +
        (j.IsElastic ? $", elastic {j.MinReplicas}–{j.MaxReplicas}" : "") +
        (j.Replicas > 1 && microBatches % j.Replicas == 0 ? $", {microBatches / j.Replicas} of the {microBatches} micro-batches each" : "");

    /// <summary>Stage → node; grouped by replica (its id on the group's first row) when the job has or may have several.</summary>
    private static Table Placement(JobDetailView d)
    {
        bool byReplica = d.Job.MaxReplicas > 1 || d.Placement.Any(p => p.Replica != 0);
        var table = new Table().Border(TableBorder.Rounded).Title("placement");
        if (!byReplica)
        {
            table.AddColumns("stage", "node", "silo", "units");
            foreach (var p in d.Placement.OrderBy(p => p.Stage))
                table.AddRow(p.Stage.ToString(CultureInfo.InvariantCulture), Markup.Escape(p.NodeId), Markup.Escape(p.Silo), Markup.Escape(p.Units));
            return table;
        }
        table.AddColumns("replica", "stage", "node", "silo", "units");
        var replicas = d.Placement.GroupBy(p => p.Replica).OrderBy(g => g.Key).ToArray();
        foreach (var replica in replicas)
        {
            if (replica.Key != replicas[0].Key) table.AddEmptyRow(); // a gap between replicas
            bool first = true;
            foreach (var p in replica.OrderBy(p => p.Stage))
            {
                table.AddRow(first ? replica.Key.ToString(CultureInfo.InvariantCulture) : "", p.Stage.ToString(CultureInfo.InvariantCulture),
                    Markup.Escape(p.NodeId), Markup.Escape(p.Silo), Markup.Escape(p.Units));
                first = false;
            }
        }
        return table;
    }

    private static string LossLine(LossSummaryView l) => l.Steps == 0
        ? "no steps yet"
        : $"first {Formats.Loss(l.First)}, last {Formats.Loss(l.Last)}, lowest {Formats.Loss(l.Min)} at step {l.MinStep} over {l.Steps} steps  [blue]{Sparkline.Of(l.Recent, 40)}[/]";
}
