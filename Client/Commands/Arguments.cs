using System.CommandLine;
using Cluster.Client.Cli;

namespace Cluster.Client.Commands;

/// <summary>Arguments several commands share; ids complete with the shell's cached ids on Tab.</summary>
internal static class Arguments
{
    public static Argument<string> JobId(ConsoleContext context)
    {
        var argument = new Argument<string>("job") { Description = "Job id (see 'jobs')" };
        argument.CompletionSources.Add(_ => context.Ids.Jobs.Select(id => new System.CommandLine.Completions.CompletionItem(id)));
        return argument;
    }

    public static Argument<string> NodeId(ConsoleContext context)
    {
        var argument = new Argument<string>("node") { Description = "Node id <silo>/<device> (see 'nodes')" };
        argument.CompletionSources.Add(_ => context.Ids.Nodes.Select(id => new System.CommandLine.Completions.CompletionItem(id)));
        return argument;
    }
}
