using System.CommandLine;
using Cluster.Client.Config;
using Cluster.Client.Connection;
using Microsoft.Extensions.Configuration;

namespace Cluster.Client.Cli;

/// <summary>Options every command takes: output format and where the cluster is.</summary>
internal sealed class GlobalOptions
{
    public Option<bool> Json { get; } = new("--json") { Description = "Write JSON for scripts; the same as -o json (camelCase, enums as names; see docs/console.md)", Recursive = true };

    public Option<OutputFormat?> Output { get; } = new("--output", "-o")
    {
        Description = "Output format: table, wide (more columns), json, yaml, or name (ids only, one per line) [default: table]",
        Recursive = true,
    };

    public Option<bool> NoHeaders { get; } = new("--no-headers") { Description = "Tables without header row and borders (for awk and cut)", Recursive = true };

    public Option<string?> Context { get; } = new("--context") { Description = "The named cluster to use from the clusterctl config file (see 'config get-contexts') instead of the current one", Recursive = true };

    public Option<string[]> Gateway { get; } = new("--gateway", "-g")
    {
        Description = "A silo gateway host:port to connect to (repeatable); replaces 127.0.0.1:<gateway port>",
        Recursive = true,
        Arity = ArgumentArity.OneOrMore,
    };

    public Option<int?> GatewayPort { get; } = new("--gateway-port") { Description = "The local silo's Orleans:GatewayPort [default: 30000]", Recursive = true };

    public Option<string?> ClusterId { get; } = new("--cluster-id") { Description = "The silos' Orleans:ClusterId [default: dev]", Recursive = true };

    public Option<string?> ServiceId { get; } = new("--service-id") { Description = "The silos' Orleans:ServiceId [default: dev]", Recursive = true };

    public Option<double?> ConnectTimeout { get; } = new("--connect-timeout") { Description = "Seconds to wait for a gateway before giving up (exit 3) [default: 8]", Recursive = true };

    public Option<bool> Verbose { get; } = new("--verbose") { Description = "Log the Orleans client's activity to the console", Recursive = true };

    public IEnumerable<Option> All => [Json, Output, NoHeaders, Context, Gateway, GatewayPort, ClusterId, ServiceId, ConnectTimeout, Verbose];

    /// <summary>The format asked for: <c>--json</c> is <c>-o json</c>; both at once must agree.</summary>
    public OutputFormat Format(ParseResult parse)
    {
        var output = parse.GetValue(Output);
        if (parse.GetValue(Json))
        {
            return output is null or OutputFormat.Json ? OutputFormat.Json
                : throw new UsageException($"--json and -o {output.Value.ToString().ToLowerInvariant()} disagree: give one of them.");
        }
        return output ?? OutputFormat.Table;
    }

    /// <summary>
    /// Configuration (appsettings.json, CLUSTER_ variables), then the context chosen (--context, else the config file's
    /// current one, if any), then the flags given on this command line: each later one wins for what it sets.
    /// </summary>
    public ClientConnectionOptions Resolve(ParseResult parse, IConfiguration configuration, ContextStore contexts)
    {
        var options = ClientConnectionOptions.From(configuration);
        if (contexts.Select(parse.GetValue(Context)) is { } chosen) chosen.Context.ApplyTo(options);
        if (parse.GetValue(Gateway) is { Length: > 0 } gateways) options.Gateways = [.. gateways];
        if (parse.GetValue(GatewayPort) is { } port) options.GatewayPort = port;
        if (parse.GetValue(ClusterId) is { } clusterId) options.ClusterId = clusterId;
        if (parse.GetValue(ServiceId) is { } serviceId) options.ServiceId = serviceId;
        if (parse.GetValue(ConnectTimeout) is { } seconds) options.ConnectTimeout = TimeSpan.FromSeconds(seconds);
        return options;
    }
}
