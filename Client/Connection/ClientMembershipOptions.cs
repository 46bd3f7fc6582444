namespace Cluster.Client.Connection;

/// <summary>
/// How the console finds the gateways: the silos' own membership settings (section <c>Orleans:Membership</c>, the
/// same keys the silo reads), so one appsettings.json or one set of CLUSTER_ variables serves both.
/// </summary>
public sealed class ClientMembershipOptions
{
    /// <summary>Localhost, AzureTable or Redis (any case). <value>Localhost.</value></summary>
    public string Provider { get; set; } = nameof(ClusteringKind.Localhost);

    /// <summary>AzureTable: a storage connection string; Redis: host:port[,password=…]. A secret: never printed.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>AzureTable without a connection string: the table endpoint, signed in with DefaultAzureCredential.</summary>
    public Uri? ServiceUrl { get; set; }

    /// <summary>AzureTable: the membership table. <value>OrleansSiloInstances.</value></summary>
    public string TableName { get; set; } = "OrleansSiloInstances";

    /// <summary>The provider, or null when <see cref="Provider"/> names none.</summary>
    public ClusteringKind? Kind => Enum.TryParse<ClusteringKind>(Provider, ignoreCase: true, out var kind) && Enum.IsDefined(kind) ? kind : null;

    /// <summary>Every problem, each naming its key (under <c>Orleans:Membership</c>) and the fix.</summary>
    public IReadOnlyList<string> Validate()
    {
        const string prefix = ClientConnectionOptions.Section + ":Membership:";
        var problems = new List<string>();
        switch (Kind)
        {
            case null:
                problems.Add($"{prefix}Provider = '{Provider}' is not a membership provider: use Localhost (one machine), AzureTable or Redis, as the silos do.");
                break;
            case ClusteringKind.AzureTable when string.IsNullOrWhiteSpace(ConnectionString) && ServiceUrl is null:
                problems.Add($"{prefix}ConnectionString is missing: AzureTable membership needs the storage connection string the silos use, or {prefix}ServiceUrl (https://ACCOUNT.table.core.windows.net) to sign in with DefaultAzureCredential.");
                break;
            case ClusteringKind.Redis when string.IsNullOrWhiteSpace(ConnectionString):
                problems.Add($"{prefix}ConnectionString is missing: Redis membership needs the server the silos use, e.g. redis.internal:6379.");
                break;
        }
        return problems;
    }
}
