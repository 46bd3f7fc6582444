using System.Net;
using Microsoft.Extensions.Configuration;

namespace Cluster.Client.Connection;

/// <summary>
/// Where and how the console connects: the same settings as the silo's (section <c>Orleans</c> of appsettings.json,
/// <c>CLUSTER_</c>-prefixed environment variables such as <c>CLUSTER_Orleans__GatewayPort</c>), overridden by the
/// console's own flags (<c>--gateway</c>, <c>--cluster-id</c>, …). Every clustering provider is configured here and
/// nowhere else.
/// </summary>
public sealed class ClientConnectionOptions
{
    /// <summary>Configuration section the options bind from.</summary>
    public const string Section = "Orleans";

    /// <value>Localhost unless the silos share a membership table.</value>
    public ClusteringKind Clustering { get; set; } = ClusteringKind.Localhost;

    /// <summary>The silos' cluster id; null keeps Orleans' default ("default"), which a silo with no ClusterId setting uses too.</summary>
    public string? ClusterId { get; set; }

    /// <summary>The silos' service id; null keeps Orleans' default, as for <see cref="ClusterId"/>.</summary>
    public string? ServiceId { get; set; }

    /// <summary>The cluster id in messages.</summary>
    public string ClusterIdShown => ClusterId ?? "default";

    /// <value>30000: the gateway port of a silo started with no settings.</value>
    public int GatewayPort { get; set; } = 30000;

    /// <summary>Explicit gateways "host:port"; when given they replace the localhost gateway.</summary>
    public List<string> Gateways { get; set; } = [];

    /// <summary>Azure Table storage connection string (Clustering = AzureTable). Never printed.</summary>
    public string? AzureTableConnectionString { get; set; }

    /// <value>"OrleansSiloInstances", the Orleans default table.</value>
    public string AzureTableName { get; set; } = "OrleansSiloInstances";

    /// <summary>Redis connection string (Clustering = Redis). Never printed.</summary>
    public string? RedisConnectionString { get; set; }

    /// <value>8 s: the console gives up (exit 3) within 10 s of starting when no gateway answers.</value>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(8);

    /// <summary>Binds the <see cref="Section"/> section of <paramref name="configuration"/>.</summary>
    public static ClientConnectionOptions From(IConfiguration configuration)
    {
        var options = new ClientConnectionOptions();
        configuration.GetSection(Section).Bind(options);
        return options;
    }

    /// <summary>Every problem, each naming its setting and what to do; empty when the options are usable.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (ClusterId is not null && string.IsNullOrWhiteSpace(ClusterId))
            problems.Add($"{Section}:ClusterId is empty; use the silos' cluster id, or leave it out for a silo started without one.");
        if (ServiceId is not null && string.IsNullOrWhiteSpace(ServiceId))
            problems.Add($"{Section}:ServiceId is empty; use the silos' service id, or leave it out for a silo started without one.");
        if (GatewayPort is < 1 or > 65535)
            problems.Add($"{Section}:GatewayPort is {GatewayPort}; give a TCP port between 1 and 65535 (30000 by default).");
        foreach (string gateway in Gateways)
        {
            if (!TryParseGateway(gateway, out _, out _))
                problems.Add($"--gateway '{gateway}' is not host:port (e.g. 127.0.0.1:30000 or gpu-host-1:30000).");
        }
        if (Clustering == ClusteringKind.AzureTable && string.IsNullOrWhiteSpace(AzureTableConnectionString))
            problems.Add($"{Section}:AzureTableConnectionString is missing; Clustering=AzureTable needs the storage account's connection string.");
        if (Clustering == ClusteringKind.Redis && string.IsNullOrWhiteSpace(RedisConnectionString))
            problems.Add($"{Section}:RedisConnectionString is missing; Clustering=Redis needs the Redis connection string (e.g. localhost:6379).");
        if (Clustering != ClusteringKind.Localhost && Gateways.Count > 0)
            problems.Add($"--gateway is for localhost/static clustering; with Clustering={Clustering} the gateways come from the membership table.");
        if (ConnectTimeout <= TimeSpan.Zero || ConnectTimeout > TimeSpan.FromMinutes(5))
            problems.Add($"{Section}:ConnectTimeout is {ConnectTimeout}; give a duration between 1 s and 5 min (e.g. 00:00:08).");
        return problems;
    }

    /// <summary>What the console tries, in words, for error messages; secrets never appear.</summary>
    public string Describe() => Clustering switch
    {
        ClusteringKind.AzureTable => $"the gateways listed in the Azure Table membership table '{AzureTableName}' (cluster '{ClusterIdShown}')",
        ClusteringKind.Redis => $"the gateways listed in the Redis membership table (cluster '{ClusterIdShown}')",
        _ when Gateways.Count > 0 => $"gateway{(Gateways.Count == 1 ? "" : "s")} {string.Join(", ", Gateways)} (cluster '{ClusterIdShown}')",
        _ => $"the localhost gateway 127.0.0.1:{GatewayPort} (cluster '{ClusterIdShown}')",
    };

    /// <summary>Parses "host:port" (an IPv6 address in brackets: "[::1]:30000").</summary>
    public static bool TryParseGateway(string text, out string host, out int port)
    {
        host = "";
        port = 0;
        int colon = text.LastIndexOf(':');
        if (colon <= 0 || colon == text.Length - 1) return false;
        host = text[..colon].Trim('[', ']');
        return host.Length > 0 && int.TryParse(text[(colon + 1)..], out port) && port is >= 1 and <= 65535;
    }

    /// <summary>The explicit gateways as endpoints (names resolved through DNS).</summary>
    public IPEndPoint[] ResolveGateways()
    {
        var endpoints = new List<IPEndPoint>();
        foreach (string gateway in Gateways)
        {
            if (!TryParseGateway(gateway, out string host, out int port))
                throw new ArgumentException($"--gateway '{gateway}' is not host:port.");
            endpoints.Add(new IPEndPoint(IPAddress.TryParse(host, out var ip) ? ip : Resolve(host), port));
        }
        return [.. endpoints];
    }

    private IPAddress Resolve(string host)
    {
        try
        {
            return Dns.GetHostAddresses(host).FirstOrDefault()
                ?? throw new ClusterUnreachableException(this, $"the name '{host}' has no address");
        }
        catch (System.Net.Sockets.SocketException e)
        {
            throw new ClusterUnreachableException(this, $"the name '{host}' does not resolve ({e.Message})");
        }
    }
}
