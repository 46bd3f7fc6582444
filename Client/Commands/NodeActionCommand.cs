using System.CommandLine;
using Cluster.Client.Cli;
using Cluster.Client.Rendering;
using Cluster.Client.Views;
using Cluster.Grains.Interfaces.Nodes;
using Cluster.Grains.Interfaces.Scheduling;
using Spectre.Console;

namespace Cluster.Client.Commands;

/// <summary>
/// <c>node drain|cordon|uncordon &lt;node|silo|glob&gt;</c>: an operator action on one node, on every node of a silo
/// (<c>node drain gpu-01</c>), or on every node whose id or silo matches a pattern (<c>node cordon 'gpu-0*/*'</c>);
/// prints each node after it. <c>--reason</c> (required for drain) is recorded on the node until it is uncordoned, and
/// on the event.
/// </summary>
internal static class NodeActionCommand
{
    public static Command Drain(ConsoleContext context) =>
        Create(context, "drain", "Cordon the node(s) and move their stages away at each job's next step boundary (no rollback)",
            "draining: its stages move away at each job's next step boundary", (s, id, why) => s.Drain(id, why), ReasonRule.Required);

    public static Command Cordon(ConsoleContext context) =>
        Create(context, "cordon", "Send no new stages to the node(s) (the stages they run stay)",
            "cordoned: it takes no new stages", (s, id, why) => s.Cordon(id, why), ReasonRule.Optional);

    public static Command Uncordon(ConsoleContext context) =>
        Create(context, "uncordon", "Lift a cordon or drain: the node(s) take new stages again",
            "uncordoned: it takes new stages again", (s, id, _) => s.Uncordon(id), ReasonRule.None);

    private enum ReasonRule
    {
        None,
        Optional,
        Required,
    }

    private static Command Create(ConsoleContext context, string name, string description, string verb, Func<ISchedulerGrain, string, string?, Task<NodeInfo>> action,
        ReasonRule rule)
    {
        var node = Arguments.NodeTarget(context);
        var reason = ReasonOption.Create("Why (shown on the node in 'nodes' and recorded on the event)" + (rule == ReasonRule.Required ? " [required]" : ""));
        var command = new Command(name, description) { node };
        if (rule != ReasonRule.None) command.Options.Add(reason);
        command.SetAction(context, async (parse, ct) =>
        {
            string target = parse.GetRequiredValue(node);
            string? why = rule == ReasonRule.None ? null : parse.GetValue(reason);
            if (rule == ReasonRule.Required && string.IsNullOrWhiteSpace(why))
                throw new UsageException($"node {name} needs --reason: say why, e.g. --reason \"kernel upgrade\" (it is shown in 'nodes' and in the events).");
            var queries = await context.QueriesAsync(parse, ct);
            var (ids, single) = await queries.ResolveNodesAsync(target);
            var views = new List<NodeView>();
            foreach (string id in ids)
            {
                ct.ThrowIfCancellationRequested();
                views.Add(await queries.NodeActionAsync(id, s => action(s, id, why)));
            }
            if (single) context.Write(parse, views[0], _ => Lines.Of(Line(views[0], verb)), () => [views[0].NodeId]);
            else context.Write(parse, views, _ => new Rows([.. views.Select(v => Line(v, verb))]), () => views.Select(v => v.NodeId));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Markup Line(NodeView view, string verb) => new(
        $"node [bold]{Markup.Escape(view.NodeId)}[/] {Markup.Escape(verb)}; " +
        (view.Stages.Count == 0 ? "it runs no stage now" : $"it runs {Markup.Escape(string.Join(" ", view.Stages))} now"));
}
