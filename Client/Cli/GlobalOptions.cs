using System.CommandLine;
using Cluster.Client.Connection;
using Microsoft.Extensions.Configuration;

namespace Cluster.Client.Cli;

/// <summary>Options every command takes: output format and where the cluster is.</summary>
internal sealed class GlobalOptions
{
    public Option<bool> Json { get; } = new("--json") { Description = "Write JSON for scripts (camelCase, enums as names; see docs/console.md)", Recursive = true };

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

    public IEnumerable<Option> All => [Json, Gateway, GatewayPort, ClusterId, ServiceId, ConnectTimeout, Verbose];

    /// <summary>Configuration (appsettings.json, CLUSTER_ variables) overridden by the flags given on this command line.</summary>
    public ClientConnectionOptions Resolve(ParseResult parse, IConfiguration configuration)
    {
        var options = ClientConnectionOptions.From(configuration);
        if (parse.GetValue(Gateway) is { Length: > 0 } gateways) options.Gateways = [.. gateways];
        if (parse.GetValue(GatewayPort) is { } port) options.GatewayPort = port;
        if (parse.GetValue(ClusterId) is { } clusterId) options.ClusterId = clusterId;
        if (parse.GetValue(ServiceId) is { } serviceId) options.ServiceId = serviceId;
        if (parse.GetValue(ConnectTimeout) is { } seconds) options.ConnectTimeout = TimeSpan.FromSeconds(seconds);
        return options;
    }
}
