using System.CommandLine;
using System.Text.Json;
using Cluster.Client.Connection;
using Cluster.Client.Data;
using Cluster.Client.Views;
using Microsoft.Extensions.Configuration;
using Spectre.Console;

namespace Cluster.Client.Cli;

/// <summary>
/// What every command needs: where to write (rich text for people, raw JSON for scripts, errors apart) and a
/// connection to the cluster, made on first use and kept (the interactive shell reuses it for every command).
/// </summary>
internal sealed class ConsoleContext(
    IAnsiConsole output,
    IAnsiConsole error,
    TextWriter raw,
    IConfiguration configuration,
    Func<ClientConnectionOptions, bool, IClusterConnector> connect,
    TimeProvider time) : IAsyncDisposable
{
    private IClusterConnector? _connector;

    public IAnsiConsole Out { get; } = output;

    public IAnsiConsole Error { get; } = error;

    public TimeProvider Time { get; } = time;

    public GlobalOptions Global { get; } = new();

    /// <summary>Called after each command in the shell, to refresh what tab completion offers.</summary>
    public CompletionIds Ids { get; } = new();

    public bool IsJson(ParseResult parse) => parse.GetValue(Global.Json);

    public async Task<IClusterClient> ClientAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        _connector ??= connect(Global.Resolve(parse, configuration), parse.GetValue(Global.Verbose));
        return await _connector.ConnectAsync(cancellationToken);
    }

    public async Task<ClusterQueries> QueriesAsync(ParseResult parse, CancellationToken cancellationToken) =>
        new(await ClientAsync(parse, cancellationToken), Time);

    /// <summary>One indented JSON document on standard output.</summary>
    public void WriteJson<T>(T value)
    {
        raw.WriteLine(JsonSerializer.Serialize(value, ConsoleJson.Indented));
        raw.Flush();
    }

    /// <summary>One JSON object on one line (NDJSON), for streamed output.</summary>
    public void WriteJsonLine<T>(T value)
    {
        raw.WriteLine(JsonSerializer.Serialize(value, ConsoleJson.Line));
        raw.Flush();
    }

    /// <summary>Refreshes the ids tab completion offers; only when connected, and never failing the shell.</summary>
    public async Task RefreshIdsAsync()
    {
        if (_connector is not { IsConnected: true }) return;
        try
        {
            var queries = new ClusterQueries(await _connector.ConnectAsync(CancellationToken.None), Time);
            Ids.Jobs = await queries.Registry.GetAll().WaitAsync(TimeSpan.FromSeconds(2));
            Ids.Nodes = [.. (await queries.Scheduler.GetNodes().WaitAsync(TimeSpan.FromSeconds(2))).Select(n => n.Capabilities.NodeId)];
        }
        catch (Exception)
        {
            // completion is a convenience: keep the ids we had
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_connector is not null) await _connector.DisposeAsync();
    }
}
