using System.CommandLine.Parsing;
using Cluster.Client.Cli;
using Spectre.Console;

namespace Cluster.Client.Shell;

/// <summary>
/// The console with no arguments: reads command lines and runs each through the same command tree, on one cluster
/// connection. <c>help</c> lists the commands, <c>exit</c> (or Ctrl+D) leaves; Ctrl+C stops the running command only.
/// </summary>
internal sealed class InteractiveShell(ConsoleApp app, ILineReader input)
{
    public const string Prompt = "cluster> ";

    public async Task<int> RunAsync(Func<CancellationToken> nextCommand)
    {
        var context = app.Context;
        context.Out.MarkupLine("[bold]Training cluster console[/] — type [bold]help[/] for the commands, [bold]exit[/] to leave; Tab completes, Up/Down and Ctrl+R recall history (kept between sessions).");
        while (input.ReadLine(Prompt) is { } line)
        {
            string trimmed = line.Trim();
            if (trimmed.Length == 0 || trimmed.StartsWith('#')) continue;
            if (trimmed is "exit" or "quit") break;
            string[] args = [.. CommandLineParser.SplitCommandLine(trimmed == "help" ? "--help" : trimmed)];
            int code = await app.InvokeAsync(args, nextCommand());
            if (code != ExitCodes.Ok) context.Error.MarkupLine($"[grey](exit code {code})[/]");
            await context.RefreshIdsAsync();
        }
        return ExitCodes.Ok;
    }

    /// <summary>Tab candidates for the line so far: command and option names, and job/node ids where one is expected.</summary>
    public static IReadOnlyList<string> Completions(ConsoleApp app, string line, int cursor) =>
        [.. app.Root.Parse(line[..cursor]).GetCompletions(cursor).Select(c => c.Label)];
}
