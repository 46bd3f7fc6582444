using Cluster.Client.Cli;
using Cluster.Client.Connection;
using Microsoft.Extensions.Configuration;
using Spectre.Console.Testing;

namespace Cluster.Client.Tests;

/// <summary>The console wired to test consoles: runs command lines as the program would and captures what they print.</summary>
internal sealed class ConsoleHarness : IAsyncDisposable
{
    private readonly StringWriter _raw = new();

    public ConsoleHarness(IClusterClient client)
        : this(_ => new FixedConnector(client))
    {
    }

    public ConsoleHarness(Func<ClientConnectionOptions, IClusterConnector> connect, IConfiguration? configuration = null, string? configPath = null)
    {
        Raw = TextWriter.Synchronized(_raw);
        // A config file no test shares (and that does not exist unless the test writes it): the user's own never counts.
        ConfigPath = configPath ?? Path.Combine(Path.GetTempPath(), "clusterctl-tests", Guid.NewGuid().ToString("N"), "config.json");
        Context = new ConsoleContext(Out, Error, Raw, configuration ?? new ConfigurationBuilder().Build(), (o, _) => connect(o), TimeProvider.System,
            new Config.ContextStore(ConfigPath));
        App = new ConsoleApp(Context, Raw);
    }

    public string ConfigPath { get; }

    public TestConsole Out { get; } = new TestConsole().Width(160);

    public TestConsole Error { get; } = new TestConsole().Width(400);

    public TextWriter Raw { get; }

    public ConsoleContext Context { get; }

    public ConsoleApp App { get; }

    /// <summary>Standard output so far (safe while a command is still writing).</summary>
    public string RawSoFar()
    {
        // The synchronized writer locks on itself while writing.
        lock (Raw) return _raw.ToString();
    }

    public async Task<ConsoleResult> RunAsync(CancellationToken cancellationToken, params string[] args)
    {
        int code = await App.InvokeAsync(args, cancellationToken);
        return new ConsoleResult(code, Out.Output, Error.Output, _raw.ToString());
    }

    public Task<ConsoleResult> RunAsync(params string[] args) => RunAsync(CancellationToken.None, args);

    /// <summary>One command on a fresh console (so outputs do not mix).</summary>
    public static async Task<ConsoleResult> RunAsync(IClusterClient client, params string[] args)
    {
        await using var harness = new ConsoleHarness(client);
        return await harness.RunAsync(args);
    }

    public ValueTask DisposeAsync() => Context.DisposeAsync();
}
