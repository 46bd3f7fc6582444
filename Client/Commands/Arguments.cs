using System.CommandLine;
using System.CommandLine.Completions;
using Cluster.Client.Cli;

namespace Cluster.Client.Commands;

/// <summary>Arguments several commands share; ids complete on Tab (the shell's cached ids, or the cluster's for completion scripts).</summary>
internal static class Arguments
{
    public static Argument<string> JobId(ConsoleContext context)
    {
        var argument = new Argument<string>("job") { Description = "Job id (see 'jobs')" };
        argument.CompletionSources.Add(_ => context.Ids.Jobs.Select(id => new CompletionItem(id)));
        return argument;
    }

    public static Argument<string> NodeId(ConsoleContext context)
    {
        var argument = new Argument<string>("node") { Description = "Node id <silo>/<device> (see 'nodes')" };
        argument.CompletionSources.Add(_ => context.Ids.Nodes.Select(id => new CompletionItem(id)));
        return argument;
    }

    /// <summary>A node id, a silo name (all its nodes) or a pattern with * and ? matched against node ids and silo names.</summary>
    public static Argument<string> NodeTarget(ConsoleContext context)
    {
        var argument = new Argument<string>("node") { Description = "Node id <silo>/<device>, a silo name (all its nodes), or a pattern such as 'gpu-01/*' (see 'nodes')" };
        argument.CompletionSources.Add(_ => context.Ids.Nodes.Concat(context.Ids.Silos).Select(id => new CompletionItem(id)));
        return argument;
    }
}
