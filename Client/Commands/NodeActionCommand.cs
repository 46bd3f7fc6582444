using System.CommandLine;
using Cluster.Client.Cli;
using Cluster.Client.Rendering;
using Cluster.Grains.Interfaces.Nodes;
using Cluster.Grains.Interfaces.Scheduling;
using Spectre.Console;

namespace Cluster.Client.Commands;

/// <summary><c>node drain|cordon|uncordon &lt;id&gt;</c>: one operator action on a node; prints the node after it.</summary>
internal static class NodeActionCommand
{
    public static Command Drain(ConsoleContext context) =>
        Create(context, "drain", "Cordon the node and move its stages away at each job's next step boundary (no rollback)", "draining", (s, id) => s.Drain(id));

    public static Command Cordon(ConsoleContext context) =>
        Create(context, "cordon", "Send no new stages to the node (the stages it runs stay)", "cordoned", (s, id) => s.Cordon(id));

    public static Command Uncordon(ConsoleContext context) =>
        Create(context, "uncordon", "Lift a cordon or drain: the node takes new stages again", "uncordoned", (s, id) => s.Uncordon(id));

    private static Command Create(ConsoleContext context, string name, string description, string verb, Func<ISchedulerGrain, string, Task<NodeInfo>> action)
    {
        var node = Arguments.NodeId(context);
        var command = new Command(name, description) { node };
        command.SetAction(context, async (parse, ct) =>
        {
            string id = parse.GetRequiredValue(node);
            var view = await (await context.QueriesAsync(parse, ct)).NodeActionAsync(id, s => action(s, id));
            if (context.IsJson(parse)) context.WriteJson(view);
            else
            {
                context.Out.MarkupLine($"node [bold]{Markup.Escape(view.NodeId)}[/] {verb}: {NodesRenderer.Flags(view)}; " +
                    (view.Stages.Count == 0 ? "runs no stage" : $"runs {Markup.Escape(string.Join(" ", view.Stages))}"));
            }
            return ExitCodes.Ok;
        });
        return command;
    }
}
