using Cluster.Client.Connection;
using Cluster.Tls;

namespace Cluster.Client.Config;

/// <summary>
/// One named cluster of the clusterctl config file: what to connect to and how. Every field is optional; those set
/// replace what appsettings.json and CLUSTER_ variables say, and flags replace them in turn.
/// </summary>
internal sealed record ClusterContext
{
    /// <summary>Gateways host:port (Localhost membership); as <c>--gateway</c>.</summary>
    public List<string>? Gateways { get; init; }

    public int? GatewayPort { get; init; }

    public string? ClusterId { get; init; }

    public string? ServiceId { get; init; }

    /// <summary>Localhost, AzureTable or Redis, as the silos' Orleans:Membership:Provider.</summary>
    public string? MembershipProvider { get; init; }

    /// <summary>A secret (storage connection string or Redis server): never printed by <c>config get-contexts</c>.</summary>
    public string? MembershipConnectionString { get; init; }

    public Uri? MembershipServiceUrl { get; init; }

    public string? MembershipTable { get; init; }

    /// <summary>This operator's certificate (.pfx/.p12 or .pem): set, it turns mutual TLS on.</summary>
    public string? TlsCertificate { get; init; }

    public string? TlsKey { get; init; }

    /// <summary>A secret: never printed.</summary>
    public string? TlsCertificatePassword { get; init; }

    /// <summary>The CA certificate that issued the silos' certificates.</summary>
    public string? TlsCertificateAuthority { get; init; }

    public List<string>? TlsThumbprints { get; init; }

    public double? ConnectTimeoutSeconds { get; init; }

    public void ApplyTo(ClientConnectionOptions options)
    {
        if (Gateways is { Count: > 0 }) options.Gateways = [.. Gateways];
        if (GatewayPort is { } port) options.GatewayPort = port;
        if (ClusterId is not null) options.ClusterId = ClusterId;
        if (ServiceId is not null) options.ServiceId = ServiceId;
        if (MembershipProvider is not null) options.Membership.Provider = MembershipProvider;
        if (MembershipConnectionString is not null) options.Membership.ConnectionString = MembershipConnectionString;
        if (MembershipServiceUrl is not null) options.Membership.ServiceUrl = MembershipServiceUrl;
        if (MembershipTable is not null) options.Membership.TableName = MembershipTable;
        if (TlsCertificate is not null)
        {
            options.Tls = new ClusterTlsOptions
            {
                Enabled = true,
                CertificatePath = TlsCertificate,
                KeyPath = TlsKey,
                CertificatePassword = TlsCertificatePassword,
                CertificateAuthorityPath = TlsCertificateAuthority,
                AllowedThumbprints = [.. TlsThumbprints ?? []],
            };
        }
        if (ConnectTimeoutSeconds is { } seconds) options.ConnectTimeout = TimeSpan.FromSeconds(seconds);
    }

    /// <summary>Where the context points, in words, secrets left out.</summary>
    public string Describe() =>
        MembershipProvider is { } provider && !provider.Equals("Localhost", StringComparison.OrdinalIgnoreCase)
            ? $"{provider} membership" + (MembershipTable is null ? "" : $" (table {MembershipTable})")
            : Gateways is { Count: > 0 } ? string.Join(",", Gateways)
            : $"127.0.0.1:{GatewayPort ?? 30000}";
}
