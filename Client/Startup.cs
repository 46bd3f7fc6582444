using System.Runtime.InteropServices;
using Cluster.Client.Cli;
using Cluster.Client.Config;
using Cluster.Client.Connection;
using Cluster.Client.Shell;
using Microsoft.Extensions.Configuration;
using Spectre.Console;

namespace Cluster.Client;

/// <summary>
/// Wires the console for a real terminal: settings from appsettings.json (beside the program and in the current
/// folder) and CLUSTER_-prefixed environment variables, like the silo; Spectre consoles for stdout and stderr;
/// Ctrl+C cancels the running command.
/// </summary>
internal static class Startup
{
    public static async Task<int> RunAsync(string[] args)
    {
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
            .AddJsonFile(Path.Combine(Directory.GetCurrentDirectory(), "appsettings.json"), optional: true)
            .AddEnvironmentVariables("CLUSTER_")
            .Build();
        var output = AnsiConsole.Console;
        var error = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        // Piped output has no terminal width; Spectre would wrap at 80 columns, too narrow for the tables.
        if (Console.IsOutputRedirected) output.Profile.Width = PipedWidth();
        if (Console.IsErrorRedirected) error.Profile.Width = PipedWidth();
        using var interrupts = new Interrupts();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            interrupts.Interrupt();
        };
        // SIGTERM (systemd, timeout, kill) stops the running command the same way, so that it unsubscribes and exits.
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, signal =>
        {
            signal.Cancel = true;
            interrupts.Interrupt();
        });
        await using var context = new ConsoleContext(output, error, Console.Out, configuration,
            (options, verbose) => new ClusterConnector(options, verbose), TimeProvider.System, new ContextStore(ContextStore.DefaultPath()));
        if (double.TryParse(Environment.GetEnvironmentVariable(CompletionTimeoutVariable), System.Globalization.NumberStyles.Float,
                System.Globalization.CultureInfo.InvariantCulture, out double seconds) && seconds is > 0 and <= 60)
            context.CompletionTimeout = TimeSpan.FromSeconds(seconds);
        var app = new ConsoleApp(context, Console.Out);
        return await app.RunAsync(args, a => ShellInput(a, ShellHistory.DefaultPath(context.Contexts.Path)), interrupts);
    }

    /// <summary>Seconds a Tab completion waits for the cluster's ids (default <see cref="ConsoleContext.CompletionTimeout"/>).</summary>
    public const string CompletionTimeoutVariable = "CLUSTERCTL_COMPLETION_TIMEOUT";

    private static int PipedWidth() =>
        int.TryParse(Environment.GetEnvironmentVariable("COLUMNS"), out int columns) && columns >= 40 ? columns : 120;

    private static ILineReader ShellInput(ConsoleApp app, string historyPath) => Console.IsInputRedirected
        ? new PlainLineReader(Console.In)
        : new LineEditor(new ConsoleKeySource(), Console.Out, (line, cursor) => InteractiveShell.Completions(app, line, cursor),
            () => Console.WindowWidth > 0 ? Console.WindowWidth : 80, new ShellHistory(historyPath));
}
