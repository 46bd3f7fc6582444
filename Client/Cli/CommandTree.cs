using System.CommandLine;
using Cluster.Client.Commands;

namespace Cluster.Client.Cli;

/// <summary>The console's commands, one tree for the command line and the interactive shell alike.</summary>
internal static class CommandTree
{
    public static RootCommand Create(ConsoleContext context)
    {
        var root = new RootCommand("""
            clusterctl, the operator console of the training cluster. Run a command, or nothing for an interactive shell
            with history and Tab completion. Output: -o table|wide|json|yaml|name, --no-headers. Exit codes: 0 ok,
            1 failed, 2 bad usage or input, 3 cluster unreachable, 4 not found; job watch: 5 job failed, 6 job cancelled
            (docs/console.md).
            """)
        {
            StatusCommand.Create(context),
            TopCommand.Create(context),
            NodesCommand.Create(context),
            JobsCommand.Create(context),
            new Command("job", "Submit, inspect, watch and steer jobs")
            {
                JobSubmitCommand.Create(context),
                JobCloneCommand.Create(context),
                JobShowCommand.Create(context),
                JobWatchCommand.Create(context),
                JobLossesCommand.Create(context),
                JobTimingsCommand.Create(context),
                JobEventsCommand.Create(context),
                JobUpdateCommand.Create(context),
                JobDeleteCommand.Create(context),
                JobActionCommand.Pause(context),
                JobActionCommand.Resume(context),
                JobActionCommand.Cancel(context),
            },
            QueueCommand.Create(context),
            QuotaCommands.Create(context),
            new Command("node", "Drain, cordon and uncordon nodes: one node, every node of a silo, or a pattern ('gpu-01/*'); a node's history")
            {
                NodeActionCommand.Drain(context),
                NodeActionCommand.Cordon(context),
                NodeActionCommand.Uncordon(context),
                NodeEventsCommand.Create(context),
            },
            CheckpointCommands.Create(context),
            EventsCommand.Create(context),
            ConfigCommands.Create(context),
            CompletionCommand.Create(context),
            VersionCommand.Create(context),
        };
        foreach (var option in context.Global.All) root.Options.Add(option);
        return root;
    }
}
