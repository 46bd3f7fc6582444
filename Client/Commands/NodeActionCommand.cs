using System.CommandLine;
using Cluster.Client.Cli;
using Cluster.Grains.Interfaces.Nodes;
using Cluster.Grains.Interfaces.Scheduling;
using Spectre.Console;

namespace Cluster.Client.Commands;

/// <summary><c>node drain|cordon|uncordon &lt;id&gt;</c>: one operator action on a node; prints the node after it.</summary>
internal static class NodeActionCommand
{
    public static Command Drain(ConsoleContext context) =>
        Create(context, "drain", "Cordon the node and move its stages away at each job's next step boundary (no rollback)",
            "draining: its stages move away at each job's next step boundary", (s, id) => s.Drain(id));

    public static Command Cordon(ConsoleContext context) =>
        Create(context, "cordon", "Send no new stages to the node (the stages it runs stay)",
            "cordoned: it takes no new stages", (s, id) => s.Cordon(id));

    public static Command Uncordon(ConsoleContext context) =>
        Create(context, "uncordon", "Lift a cordon or drain: the node takes new stages again",
            "uncordoned: it takes new stages again", (s, id) => s.Uncordon(id));

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
                context.Out.MarkupLine($"node [bold]{Markup.Escape(view.NodeId)}[/] {Markup.Escape(verb)}; " +
                    (view.Stages.Count == 0 ? "it runs no stage now" : $"it runs {Markup.Escape(string.Join(" ", view.Stages))} now"));
            }
            return ExitCodes.Ok;
        });
        return command;
    }
}
