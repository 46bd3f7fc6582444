using System.CommandLine;
using Cluster.Client.Connection;
using Cluster.Client.Data;
using Cluster.Client.Specs;
using Cluster.Grains.Interfaces.Jobs;
using Spectre.Console;

namespace Cluster.Client.Cli;

/// <summary>Runs a command's body and turns what can go wrong into a message that says what to do and an exit code.</summary>
internal static class CommandRunner
{
    public static void SetAction(this Command command, ConsoleContext context, Func<ParseResult, CancellationToken, Task<int>> body) =>
        command.SetAction((parse, cancellationToken) => RunAsync(context, parse, body, cancellationToken));

    public static async Task<int> RunAsync(ConsoleContext context, ParseResult parse, Func<ParseResult, CancellationToken, Task<int>> body, CancellationToken cancellationToken)
    {
        try
        {
            return await body(parse, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            context.Error.MarkupLine("[yellow]interrupted[/]");
            return ExitCodes.Interrupted;
        }
        catch (Exception e)
        {
            var (code, kind, problems, suggestions) = Classify(e);
            string message = e switch
            {
                JobSpecInvalidException => "the cluster rejected the job spec:",
                NotImplementedException => $"the cluster does not implement '{parse.CommandResult.Command.Name}' yet (its silos run a build without this operation).",
                _ => e.Message,
            };
            context.Error.MarkupLine($"[red]error:[/] {Markup.Escape(message)}");
            foreach (string problem in problems)
                context.Error.MarkupLine($"  [red]-[/] {Markup.Escape(problem)}");
            var error = new { error = new ErrorView(code, kind, message, problems, suggestions) };
            if (context.IsJson(parse)) context.WriteJson(error);
            else if (context.IsYaml(parse)) context.WriteYaml(error);
            return code;
        }
    }

    private static (int Code, string Kind, IReadOnlyList<string> Problems, IReadOnlyList<string> Suggestions) Classify(Exception e) => e switch
    {
        ClusterUnreachableException => (ExitCodes.Unreachable, "unreachable", [], []),
        ConnectionOptionsInvalidException invalid => (ExitCodes.Usage, "usage", invalid.Problems, []),
        UsageException usage => (ExitCodes.Usage, "usage", usage.Problems, []),
        SpecFileException spec => (ExitCodes.Usage, "invalidSpec", spec.Problems, []),
        JobSpecInvalidException spec => (ExitCodes.Usage, "invalidSpec", spec.Problems, []),
        NotFoundException notFound => (ExitCodes.NotFound, "notFound", [], notFound.Suggestions),
        NotImplementedException => (ExitCodes.Failed, "notImplemented", [], []),
        _ => (ExitCodes.Failed, "failed", [], []),
    };
}
