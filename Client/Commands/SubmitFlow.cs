using Cluster.Client.Cli;
using Cluster.Client.Data;
using Cluster.Client.Rendering;
using Cluster.Client.Specs;
using Cluster.Client.Views;
using Cluster.Grains.Interfaces.Jobs;
using Spectre.Console;

namespace Cluster.Client.Commands;

/// <summary>What <c>job submit</c> and <c>job clone</c> share: submit a spec and report every problem with its source, or dry-run it.</summary>
internal static class SubmitFlow
{
    public const string NotChecked =
        "model, optimizer, schedule, data source and the replica counts' split of the micro-batches are validated by the cluster at submission only";

    public static async Task<int> SubmitAsync(ConsoleContext context, System.CommandLine.ParseResult parse, ClusterQueries queries, JobSpec spec, string source, string verb)
    {
        JobStatus status;
        try
        {
            status = await queries.Job(spec.JobId).Submit(spec);
        }
        catch (JobSpecInvalidException e)
        {
            // Every problem, each with the file it came from and its field path (flags win over the file's fields).
            throw new SpecFileException($"the cluster rejected {source}:", [.. e.Problems.Select(p => $"{source}: {p}")]);
        }
        var view = JobView.From(status);
        context.Write(parse, view, _ => Lines.Of(JobsRenderer.Line(verb, view)), () => [view.JobId]);
        return ExitCodes.Ok;
    }

    /// <summary>Checks what can be checked without submitting: the id is free, nodes, quota and queue for the team.</summary>
    public static async Task<int> DryRunAsync(ConsoleContext context, System.CommandLine.ParseResult parse, ClusterQueries queries, JobSpec spec)
    {
        var checks = new List<DryRunCheck> { new("replica range", "ok", $"{spec.MinReplicas}–{spec.MaxReplicas} replica(s)") };
        var existing = await queries.Job(spec.JobId).GetSpec();
        if (existing is null) checks.Add(new("job id", "ok", $"'{spec.JobId}' is free"));
        else
        {
            var state = (await queries.Job(spec.JobId).GetStatus()).State;
            checks.Add(existing == spec
                ? new("job id", "warning", $"'{spec.JobId}' exists ({state}) with this very spec: submitting again changes nothing")
                : new("job id", "problem", $"'{spec.JobId}' already exists ({state}): give another --id"));
        }

        int needed = spec.Stages * spec.MinReplicas;
        var nodes = await queries.GetNodesAsync();
        int schedulable = nodes.Count(n => n is { State: "Ready", Cordoned: false, Draining: false, Lost: false, Stages.Count: 0 });
        int ready = nodes.Count(n => n is { State: "Ready", Lost: false });
        checks.Add(new("nodes", schedulable >= needed ? "ok" : "warning",
            $"needs {needed} node(s) ({spec.Stages} stage(s) × {spec.MinReplicas} replica(s)) one stage per node; {schedulable} Ready node(s) free now, {ready} Ready in all" +
            (schedulable >= needed ? "" : ready >= needed ? ": it would wait for capacity or preempt lower-priority jobs" : ": fewer than needed in the whole fleet, its stages would share nodes")));

        var quota = (await queries.GetQuotasAsync()).FirstOrDefault(q => q.Team == spec.Team);
        if (quota?.MaxNodes is { } max)
        {
            checks.Add(new("team quota", quota.NodesInUse + needed <= max ? "ok" : "warning",
                $"team '{spec.Team}' holds {quota.NodesInUse} of {max} node(s)" + (quota.NodesInUse + needed <= max ? "" : ": it would wait until the team frees nodes")));
        }
        else checks.Add(new("team quota", "ok", $"team '{spec.Team}' has no quota"));

        var queue = await queries.GetQueueAsync();
        int ahead = queue.Count(q => q.Priority >= spec.Priority);
        checks.Add(new("queue", ahead == 0 ? "ok" : "warning", $"{queue.Count} job(s) waiting, {ahead} of them at priority {spec.Priority} or higher"));

        bool wouldSubmit = checks.All(c => c.Outcome != "problem");
        var view = new DryRunView(spec, wouldSubmit, checks, NotChecked);
        context.Write(parse, view, _ => Render(view), () => [spec.JobId]);
        return wouldSubmit ? ExitCodes.Ok : ExitCodes.Usage;
    }

    private static Rows Render(DryRunView view)
    {
        var table = new Table().Border(TableBorder.Rounded).Title($"dry run of job {Markup.Escape(view.Spec.JobId)} (nothing submitted)")
            .AddColumns("check", "outcome", "detail");
        foreach (var c in view.Checks)
        {
            string colour = c.Outcome switch { "ok" => "green", "warning" => "yellow", _ => "red" };
            table.AddRow(Markup.Escape(c.Check), $"[{colour}]{c.Outcome}[/]", Markup.Escape(c.Detail));
        }
        var spec = view.Spec;
        return new Rows(
            table,
            new Markup($"model {spec.Model.Layers} layers × d_model {spec.Model.DModel}, {spec.Model.Heads} heads, context {spec.Model.ContextLength}; " +
                       $"{spec.Stages} stage(s), {spec.MicroBatches} × {spec.MicroBatchSize} per step, {spec.Steps} steps; priority {spec.Priority}, team {Markup.Escape(spec.Team)}"),
            new Markup($"[grey]not checked: {Markup.Escape(view.NotChecked)}[/]"),
            new Markup(view.WouldSubmit ? "[green]would submit[/]" : "[red]would be refused[/]"),
            Text.Empty);
    }
}
