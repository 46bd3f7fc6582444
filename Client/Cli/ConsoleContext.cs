using System.CommandLine;
using System.Text.Json;
using Cluster.Client.Config;
using Cluster.Client.Connection;
using Cluster.Client.Data;
using Cluster.Client.Rendering;
using Cluster.Client.Views;
using Microsoft.Extensions.Configuration;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Cluster.Client.Cli;

/// <summary>
/// What every command needs: where to write (rich text for people, raw JSON/YAML/ids for scripts, errors apart) and a
/// connection to the cluster, made on first use and kept (the interactive shell reuses it for every command).
/// </summary>
internal sealed class ConsoleContext(
    IAnsiConsole output,
    IAnsiConsole error,
    TextWriter raw,
    IConfiguration configuration,
    Func<ClientConnectionOptions, bool, IClusterConnector> connect,
    TimeProvider time,
    ContextStore contexts) : IAsyncDisposable
{
    private IClusterConnector? _connector;

    public IAnsiConsole Out { get; } = output;

    public IAnsiConsole Error { get; } = error;

    public TimeProvider Time { get; } = time;

    public GlobalOptions Global { get; } = new();

    public ContextStore Contexts { get; } = contexts;

    /// <summary>Job and node ids for Tab: the shell refreshes them after each command; completion scripts fetch them once.</summary>
    public CompletionIds Ids { get; } = new();

    /// <summary>How long a completion request (<c>[suggest]</c>) waits for the cluster before offering no ids.</summary>
    public TimeSpan CompletionTimeout { get; set; } = TimeSpan.FromSeconds(3);

    public OutputFormat Format(ParseResult parse) => Global.Format(parse);

    /// <summary>Whether errors go to standard output as JSON too; never throws (a conflicting -o is itself the error).</summary>
    public bool IsJson(ParseResult parse) => parse.GetValue(Global.Json) || parse.GetValue(Global.Output) == OutputFormat.Json;

    public bool IsYaml(ParseResult parse) => !parse.GetValue(Global.Json) && parse.GetValue(Global.Output) == OutputFormat.Yaml;

    public TableOptions Tables(ParseResult parse) => new(Format(parse) == OutputFormat.Wide, parse.GetValue(Global.NoHeaders));

    /// <summary>The connection settings this command line resolves to (configuration, context, flags).</summary>
    public ClientConnectionOptions ConnectionOptions(ParseResult parse) => Global.Resolve(parse, configuration, Contexts);

    public async Task<IClusterClient> ClientAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        _connector ??= connect(ConnectionOptions(parse), parse.GetValue(Global.Verbose));
        return await _connector.ConnectAsync(cancellationToken);
    }

    public async Task<ClusterQueries> QueriesAsync(ParseResult parse, CancellationToken cancellationToken) =>
        new(await ClientAsync(parse, cancellationToken), Time);

    /// <summary>
    /// Writes what a command read in the format asked for: the document as JSON or YAML, the ids for <c>-o name</c>,
    /// else the table (wide and without headers as asked).
    /// </summary>
    public void Write<T>(ParseResult parse, T value, Func<TableOptions, IRenderable> table, Func<IEnumerable<string>> names)
    {
        switch (Format(parse))
        {
            case OutputFormat.Json:
                WriteJson(value);
                break;
            case OutputFormat.Yaml:
                WriteYaml(value);
                break;
            case OutputFormat.Name:
                foreach (string name in names()) raw.WriteLine(name);
                raw.Flush();
                break;
            default:
                Out.Write(table(Tables(parse)));
                break;
        }
    }

    /// <summary>One item of a stream: a JSON line, a YAML document, or (table formats) the markup line.</summary>
    public void WriteStreamItem<T>(ParseResult parse, T value, Func<string> markupLine)
    {
        switch (Format(parse))
        {
            case OutputFormat.Json:
                WriteJsonLine(value);
                break;
            case OutputFormat.Yaml:
                raw.Write("---\n" + YamlWriter.Write(JsonSerializer.SerializeToElement(value, ConsoleJson.Line)));
                raw.Flush();
                break;
            default:
                Out.MarkupLine(markupLine());
                break;
        }
    }

    /// <summary>One indented JSON document on standard output.</summary>
    public void WriteJson<T>(T value)
    {
        raw.WriteLine(JsonSerializer.Serialize(value, ConsoleJson.Indented));
        raw.Flush();
    }

    /// <summary>The JSON document as YAML on standard output.</summary>
    public void WriteYaml<T>(T value)
    {
        raw.Write(YamlWriter.Write(JsonSerializer.SerializeToElement(value, ConsoleJson.Line)));
        raw.Flush();
    }

    /// <summary>One JSON object on one line (NDJSON), for streamed output.</summary>
    public void WriteJsonLine<T>(T value)
    {
        raw.WriteLine(JsonSerializer.Serialize(value, ConsoleJson.Line));
        raw.Flush();
    }

    /// <summary>Plain lines on standard output (CSV, scripts), no markup.</summary>
    public void WriteRaw(string text)
    {
        raw.Write(text);
        raw.Flush();
    }

    /// <summary>Refreshes the ids tab completion offers; only when connected, and never failing the shell.</summary>
    public async Task RefreshIdsAsync()
    {
        if (_connector is not { IsConnected: true }) return;
        try
        {
            await Ids.LoadAsync(new ClusterQueries(await _connector.ConnectAsync(CancellationToken.None), Time), TimeSpan.FromSeconds(2));
        }
        catch (Exception)
        {
            // completion is a convenience: keep the ids we had
        }
    }

    /// <summary>
    /// For a completion request from a shell script: connects (at most <see cref="CompletionTimeout"/>) and loads the
    /// ids, or leaves them empty when the cluster does not answer in time, so Tab never hangs.
    /// </summary>
    public async Task LoadIdsForCompletionAsync(ParseResult line)
    {
        try
        {
            var options = ConnectionOptions(line);
            if (options.ConnectTimeout > CompletionTimeout) options.ConnectTimeout = CompletionTimeout;
            _connector ??= connect(options, false);
            using var timeout = new CancellationTokenSource(CompletionTimeout + TimeSpan.FromSeconds(0.5));
            var client = await _connector.ConnectAsync(timeout.Token);
            await Ids.LoadAsync(new ClusterQueries(client, Time), CompletionTimeout);
        }
        catch (Exception)
        {
            // unreachable, slow or misconfigured: complete commands and options only
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_connector is not null) await _connector.DisposeAsync();
    }
}
