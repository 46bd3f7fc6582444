using System.CommandLine;
using Cluster.Client.Cli;
using Cluster.Client.Data;
using Spectre.Console.Rendering;

namespace Cluster.Client.Commands;

/// <summary>A command that only reads: fetch a view, then write it as JSON or render it.</summary>
internal static class ReadCommand
{
    public static Command Create<T>(ConsoleContext context, string name, string description, Func<ClusterQueries, Task<T>> fetch, Func<T, IRenderable> render)
    {
        var command = new Command(name, description);
        command.SetAction(context, async (parse, ct) =>
        {
            var view = await fetch(await context.QueriesAsync(parse, ct));
            if (context.IsJson(parse)) context.WriteJson(view);
            else context.Out.Write(render(view));
            return ExitCodes.Ok;
        });
        return command;
    }
}
