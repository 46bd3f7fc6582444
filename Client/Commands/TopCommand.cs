using System.CommandLine;
using System.Globalization;
using Cluster.Client.Cli;
using Cluster.Client.Data;
using Cluster.Client.Rendering;
using Cluster.Client.Views;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Cluster.Client.Commands;

/// <summary>
/// <c>top [--sort KEY] [--once]</c>: the fleet live, nodes × jobs: each node's step time p50/p99, memory, heartbeat
/// age, flags and the jobs it runs, then the unfinished jobs. Redraws every <c>--interval</c> on a terminal until
/// Ctrl+C (exit 0); piped, with <c>--once</c> or with -o json|yaml|name, one snapshot.
/// </summary>
internal static class TopCommand
{
    public enum SortKey
    {
        Node,
        Silo,
        State,
        P50,
        P99,
        Memory,
        Heartbeat,
        Jobs,
        Util,
    }

    public static Command Create(ConsoleContext context)
    {
        var sort = new Option<SortKey>("--sort") { Description = "Order nodes by node, silo, state, util, p50, p99, memory, heartbeat or jobs (idlest, slowest, fullest, oldest first)", DefaultValueFactory = _ => SortKey.Node };
        var once = new Option<bool>("--once") { Description = "One snapshot, then exit" };
        var interval = new Option<double>("--interval") { Description = "Seconds between redraws", DefaultValueFactory = _ => 2 };
        var command = new Command("top", "Live fleet view, nodes × jobs: device utilization, step p50/p99, memory, heartbeat age, flags, jobs per node; then the running jobs") { sort, once, interval };
        command.SetAction(context, async (parse, ct) =>
        {
            double seconds = parse.GetValue(interval);
            if (seconds is <= 0 or > 3600) throw new UsageException("--interval must be between 0 and 3600 seconds (e.g. --interval 2).");
            var queries = await context.QueriesAsync(parse, ct);
            var key = parse.GetValue(sort);
            var view = await FetchAsync(queries, context.Time, key);
            var format = context.Format(parse);
            bool live = format is OutputFormat.Table or OutputFormat.Wide && !parse.GetValue(once) && context.Out.Profile.Capabilities.Interactive;
            if (!live)
            {
                context.Write(parse, view, o => Render(view, o, key), () => view.Nodes.Select(n => n.Node.NodeId));
                return ExitCodes.Ok;
            }
            var options = context.Tables(parse);
            try
            {
                await context.Out.Live(Render(view, options, key)).AutoClear(false).StartAsync(async display =>
                {
                    while (true)
                    {
                        await Task.Delay(TimeSpan.FromSeconds(seconds), context.Time, ct);
                        display.UpdateTarget(Render(await FetchAsync(queries, context.Time, key).WaitAsync(ct), options, key));
                    }
                });
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                // Ctrl+C is how top ends
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    public static async Task<TopView> FetchAsync(ClusterQueries queries, TimeProvider time, SortKey key)
    {
        var nodesTask = queries.GetNodesAsync();
        var jobs = await queries.GetJobsAsync();
        return Build(time.GetUtcNow(), await nodesTask, jobs, key);
    }

    /// <summary>Nodes with the jobs they run, sorted; the jobs not finished.</summary>
    public static TopView Build(DateTimeOffset at, IReadOnlyList<NodeView> nodes, IReadOnlyList<JobView> jobs, SortKey key)
    {
        var rows = nodes.Select(n => new TopNodeView(n, [.. n.Stages.Select(JobOfStage).Distinct(StringComparer.Ordinal)]));
        return new TopView(at, [.. Sort(rows, key)], [.. jobs.Where(j => !j.IsTerminal)]);
    }

    /// <summary>"job/s0" and "job/r1/s0" run stages of "job" (job ids have no '/').</summary>
    public static string JobOfStage(string stage) => stage.Split('/')[0];

    private static IEnumerable<TopNodeView> Sort(IEnumerable<TopNodeView> rows, SortKey key) => key switch
    {
        SortKey.Silo => rows.OrderBy(r => r.Node.Silo, StringComparer.Ordinal).ThenBy(r => r.Node.NodeId, StringComparer.Ordinal),
        SortKey.State => rows.OrderBy(r => r.Node.State, StringComparer.Ordinal).ThenBy(r => r.Node.NodeId, StringComparer.Ordinal),
        SortKey.Util => rows.OrderBy(r => r.Node.DeviceUtilization ?? double.MaxValue).ThenBy(r => r.Node.NodeId, StringComparer.Ordinal),
        SortKey.P50 => rows.OrderByDescending(r => r.Node.StepP50Ms ?? -1).ThenBy(r => r.Node.NodeId, StringComparer.Ordinal),
        SortKey.P99 => rows.OrderByDescending(r => r.Node.StepP99Ms ?? -1).ThenBy(r => r.Node.NodeId, StringComparer.Ordinal),
        SortKey.Memory => rows.OrderByDescending(r => r.Node.MemoryInUseBytes ?? -1).ThenBy(r => r.Node.NodeId, StringComparer.Ordinal),
        SortKey.Heartbeat => rows.OrderByDescending(r => r.Node.HeartbeatAgeSeconds ?? double.MaxValue).ThenBy(r => r.Node.NodeId, StringComparer.Ordinal),
        SortKey.Jobs => rows.OrderByDescending(r => r.Jobs.Count).ThenBy(r => r.Node.NodeId, StringComparer.Ordinal),
        _ => rows.OrderBy(r => r.Node.NodeId, StringComparer.Ordinal),
    };

    public static IRenderable Render(TopView view, TableOptions options, SortKey key)
    {
        var nodes = TableStyle.Create(options, ["node", "state", "util", "step p50", "step p99", "memory", "heartbeat", "flags", "jobs"]);
        if (!options.NoHeaders)
        {
            nodes.Title($"clusterctl top — {view.At.UtcDateTime.ToString("HH:mm:ss", CultureInfo.InvariantCulture)} UTC, " +
                $"{view.Nodes.Count} node(s), {view.Jobs.Count} unfinished job(s), by {key.ToString().ToLowerInvariant()}");
        }
        foreach (var row in view.Nodes)
        {
            var n = row.Node;
            nodes.AddRow(Markup.Escape(n.NodeId), $"[{Formats.NodeColour(n.State)}]{n.State}[/]", Formats.Percent(n.DeviceUtilization), Formats.Ms(n.StepP50Ms), Formats.Ms(n.StepP99Ms),
                $"{Formats.Bytes(n.MemoryInUseBytes)} / {Formats.Bytes(n.MemoryBytes)}", Formats.Age(n.HeartbeatAgeSeconds), NodesRenderer.Flags(n),
                row.Jobs.Count == 0 ? "[grey]-[/]" : Markup.Escape(string.Join(" ", row.Jobs)));
        }
        if (options.NoHeaders) return nodes;
        return new Rows(nodes, view.Jobs.Count == 0 ? new Markup("[grey]no unfinished job[/]\n") : Jobs(view));
    }

    /// <summary>The unfinished jobs in brief (the full row is <c>jobs</c>'), so that top fits a terminal; nodes: those running a stage of the job now.</summary>
    private static Table Jobs(TopView view)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumns("job", "state", "priority", "team", "step", "loss", "tokens/s", "ETA", "replicas", "nodes");
        foreach (var j in view.Jobs)
        {
            table.AddRow(Markup.Escape(j.JobId), $"[{Formats.Colour(j.State)}]{j.State}[/]", j.Priority.ToString(CultureInfo.InvariantCulture), Markup.Escape(j.Team),
                $"{j.CompletedSteps}/{j.TotalSteps}", Formats.Loss(j.LastLoss), Formats.Number(j.TokensPerSecond), Formats.Duration(j.EtaSeconds),
                Formats.Replicas(j.Replicas, j.MinReplicas, j.MaxReplicas), view.Nodes.Count(n => n.Jobs.Contains(j.JobId)).ToString(CultureInfo.InvariantCulture));
        }
        return table;
    }
}
