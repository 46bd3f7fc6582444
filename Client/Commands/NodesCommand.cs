using System.CommandLine;
using Cluster.Client.Cli;
using Cluster.Client.Matching;
using Cluster.Client.Rendering;

namespace Cluster.Client.Commands;

/// <summary><c>nodes [--silo NAME|GLOB] [--state S…]</c>: every node the scheduler knows, with its latest heartbeat.</summary>
internal static class NodesCommand
{
    public static Command Create(ConsoleContext context)
    {
        var silo = new Option<string?>("--silo") { Description = "Only nodes of this silo (a name, or a pattern such as 'gpu-0*')" };
        silo.CompletionSources.Add(_ => context.Ids.Silos.Select(s => new System.CommandLine.Completions.CompletionItem(s)));
        var state = new Option<string[]>("--state") { Description = "Only nodes in these states: Starting, Ready, Unhealthy, Dead, Lost, Unknown (repeatable)", AllowMultipleArgumentsPerToken = true };
        state.CompletionSources.Add("Starting", "Ready", "Unhealthy", "Dead", "Lost", "Unknown");
        return ReadCommand.List<Views.NodeView>(context, "nodes", "Nodes: silo, device, state, step time p50/p99, memory, last heartbeat, flags, stages (-o wide: GFLOP/s, errors)",
            async (parse, q) =>
            {
                string? siloPattern = parse.GetValue(silo);
                var states = parse.GetValue(state) ?? [];
                return [.. (await q.GetNodesAsync()).Where(n =>
                    (siloPattern is null || Glob.IsMatch(siloPattern, n.Silo))
                    && (states.Length == 0 || states.Contains(n.State, StringComparer.OrdinalIgnoreCase)))];
            },
            NodesRenderer.Render, n => n.NodeId, silo, state);
    }
}
