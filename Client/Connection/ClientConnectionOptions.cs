using System.Net;
using Cluster.Tls;
using Microsoft.Extensions.Configuration;

namespace Cluster.Client.Connection;

/// <summary>
/// Where and how the console connects. The cluster's settings are the silo's own keys in section <c>Orleans</c>
/// (ClusterId, ServiceId, GatewayPort, Membership:…), from appsettings.json and <c>CLUSTER_</c>-prefixed environment
/// variables (<c>CLUSTER_Orleans__GatewayPort=30001</c>); the console's own ones (Gateways, ConnectTimeout) live in
/// section <c>Console</c>, because the silo refuses keys it does not know in its sections. Flags override both.
/// Every clustering provider is configured here and in <see cref="ClusterConnector"/>, nowhere else.
/// </summary>
public sealed class ClientConnectionOptions
{
    /// <summary>The silo's section, read for the cluster's settings.</summary>
    public const string Section = "Orleans";

    /// <summary>The console's own section.</summary>
    public const string ConsoleSection = "Console";

    /// <summary>The silos' cluster id. <value>dev, as the silo (with localhost membership Orleans then keeps its own default on both sides).</value></summary>
    public string ClusterId { get; set; } = "dev";

    /// <summary>The silos' service id. <value>dev, as the silo.</value></summary>
    public string ServiceId { get; set; } = "dev";

    /// <summary>Localhost membership: the gateway port of the silo on this machine. <value>30000, as the silo.</value></summary>
    public int GatewayPort { get; set; } = 30000;

    public ClientMembershipOptions Membership { get; set; } = new();

    /// <summary>Explicit gateways "host:port" (section Console, or --gateway); with localhost membership they replace 127.0.0.1:GatewayPort.</summary>
    public List<string> Gateways { get; set; } = [];

    /// <summary>Section Console. <value>8 s: the console gives up (exit 3) within 10 s of starting when no gateway answers.</value></summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(8);

    /// <summary>Mutual TLS to the silos: the silo's own section <c>Tls</c> (this machine's certificate, whom to trust).</summary>
    public ClusterTlsOptions Tls { get; set; } = new();

    public ClusteringKind Clustering => Membership.Kind ?? ClusteringKind.Localhost;

    /// <summary>Binds section <see cref="Section"/> (the silo's keys) and section <see cref="ConsoleSection"/>.</summary>
    public static ClientConnectionOptions From(IConfiguration configuration)
    {
        var options = new ClientConnectionOptions();
        var orleans = configuration.GetSection(Section);
        options.ClusterId = orleans[nameof(ClusterId)] ?? options.ClusterId;
        options.ServiceId = orleans[nameof(ServiceId)] ?? options.ServiceId;
        if (orleans[nameof(GatewayPort)] is { } port)
            options.GatewayPort = int.TryParse(port, out int p) ? p : -1;
        orleans.GetSection(nameof(Membership)).Bind(options.Membership);
        configuration.GetSection(ClusterTlsOptions.Section).Bind(options.Tls);
        var console = configuration.GetSection(ConsoleSection);
        if (console.GetSection(nameof(Gateways)).Get<string[]>() is { } gateways) options.Gateways = [.. gateways];
        if (console[nameof(ConnectTimeout)] is { } timeout)
            options.ConnectTimeout = TimeSpan.TryParse(timeout, System.Globalization.CultureInfo.InvariantCulture, out var t) ? t : TimeSpan.Zero;
        return options;
    }

    /// <summary>Every problem, each naming its setting and what to do; empty when the options are usable.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(ClusterId))
            problems.Add($"{Section}:ClusterId is empty; use the silos' cluster id (dev unless they set one).");
        if (string.IsNullOrWhiteSpace(ServiceId))
            problems.Add($"{Section}:ServiceId is empty; use the silos' service id (dev unless they set one).");
        if (GatewayPort is < 1 or > 65535)
            problems.Add($"{Section}:GatewayPort is not a TCP port between 1 and 65535 (30000 by default): give the silo's gateway port.");
        foreach (string gateway in Gateways)
        {
            if (!TryParseGateway(gateway, out _, out _))
                problems.Add($"--gateway '{gateway}' is not host:port (e.g. 127.0.0.1:30000 or gpu-host-1:30000).");
        }
        problems.AddRange(Membership.Validate());
        problems.AddRange(Tls.Validate().Select(p => $"{ClusterTlsOptions.Section}:{p}"));
        if (Clustering != ClusteringKind.Localhost && Gateways.Count > 0)
            problems.Add($"--gateway is for Localhost membership; with {Clustering} the gateways come from the membership table: leave it out.");
        if (ConnectTimeout <= TimeSpan.Zero || ConnectTimeout > TimeSpan.FromMinutes(5))
            problems.Add($"{ConsoleSection}:ConnectTimeout (--connect-timeout) must be between 1 s and 5 min, e.g. 00:00:08.");
        return problems;
    }

    /// <summary>What the console tries, in words, for error messages; secrets never appear.</summary>
    public string Describe() => Clustering switch
    {
        ClusteringKind.AzureTable => $"the gateways listed in the Azure Table membership table '{Membership.TableName}' (cluster '{ClusterId}')",
        ClusteringKind.Redis => $"the gateways listed in the Redis membership table (cluster '{ClusterId}')",
        _ when Gateways.Count > 0 => $"gateway{(Gateways.Count == 1 ? "" : "s")} {string.Join(", ", Gateways)}",
        _ => $"the localhost gateway 127.0.0.1:{GatewayPort}",
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
