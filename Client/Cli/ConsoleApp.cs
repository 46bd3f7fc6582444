using System.CommandLine;
using Cluster.Client.Matching;
using Cluster.Client.Shell;
using Spectre.Console;

namespace Cluster.Client.Cli;

/// <summary>Parses a command line and runs it; with no arguments, the interactive shell.</summary>
internal sealed class ConsoleApp(ConsoleContext context, TextWriter raw)
{
    public RootCommand Root { get; } = CommandTree.Create(context);

    public ConsoleContext Context => context;

    /// <summary>One command line, as a process or a shell line runs it.</summary>
    public async Task<int> InvokeAsync(IReadOnlyList<string> args, CancellationToken cancellationToken)
    {
        if (args.Count > 0 && Suggestions.IsRequest(args[0])) return await new Suggestions(this).WriteAsync(args);
        var parse = Root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
                context.Error.MarkupLine($"[red]error:[/] {Markup.Escape(error.Message)}");
            if (parse.UnmatchedTokens.FirstOrDefault() is { } typo
                && CloseMatches.Find(typo, parse.CommandResult.Command.Subcommands.Select(c => c.Name)) is { Count: > 0 } matches)
                context.Error.MarkupLine($"Did you mean {Markup.Escape(string.Join(", ", matches.Select(m => $"'{m}'")))}?");
            context.Error.MarkupLine("[grey]See --help for the commands and their options.[/]");
            if (args.Contains(context.Global.Json.Name) || AsksForJson(args))
                context.WriteJson(new { error = new ErrorView(ExitCodes.Usage, "usage", string.Join(" ", parse.Errors.Select(e => e.Message)), [.. parse.Errors.Select(e => e.Message)], []) });
            return ExitCodes.Usage;
        }
        var invocation = new InvocationConfiguration
        {
            Output = raw,
            Error = raw,
            EnableDefaultExceptionHandler = false,
            ProcessTerminationTimeout = null, // Ctrl+C is the caller's: it cancels the token
        };
        return await parse.InvokeAsync(invocation, cancellationToken);
    }

    private static bool AsksForJson(IReadOnlyList<string> args)
    {
        for (int i = 0; i < args.Count; i++)
        {
            if (args[i] is "-o:json" or "-o=json" or "--output=json" or "--output:json") return true;
            if (args[i] is "-o" or "--output" && i + 1 < args.Count && args[i + 1].Equals("json", StringComparison.OrdinalIgnoreCase)) return true;
        }
        return false;
    }

    /// <summary>The process's arguments: a command, or none for the shell reading <paramref name="shellInput"/>.</summary>
    public async Task<int> RunAsync(string[] args, Func<ConsoleApp, ILineReader> shellInput, Interrupts interrupts) =>
        args.Length == 0
            ? await new InteractiveShell(this, shellInput(this)).RunAsync(interrupts.Begin)
            : await InvokeAsync(args, interrupts.Begin());
}
