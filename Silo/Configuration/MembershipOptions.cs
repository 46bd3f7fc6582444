using System.Text.RegularExpressions;

namespace Cluster.Silo.Configuration;

/// <summary>
/// How silos find each other (section <c>Orleans:Membership</c>): <c>Localhost</c> (one machine, the first silo is the
/// primary), <c>AzureTable</c> (Azure Table storage membership table) or <c>Redis</c>.
/// </summary>
public sealed partial class MembershipOptions
{
    public const string Localhost = "Localhost";
    public const string AzureTable = "AzureTable";
    public const string Redis = "Redis";

    /// <summary>Localhost, AzureTable or Redis. <value>Localhost.</value></summary>
    public string Provider { get; set; } = Localhost;

    /// <summary>
    /// AzureTable: a storage connection string; Redis: a StackExchange.Redis configuration string
    /// (host:port[,password=…]). A secret: never logged.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>AzureTable without a connection string: the table endpoint, used with DefaultAzureCredential.</summary>
    public Uri? ServiceUrl { get; set; }

    /// <summary>AzureTable: the membership table (shared by every cluster of the account, keyed by ClusterId). <value>OrleansSiloInstances.</value></summary>
    public string TableName { get; set; } = "OrleansSiloInstances";

    /// <summary>The provider's canonical spelling, or null when it is not one of the three.</summary>
    public string? NormalizedProvider =>
        new[] { Localhost, AzureTable, Redis }.FirstOrDefault(p => string.Equals(p, Provider, StringComparison.OrdinalIgnoreCase));

    /// <summary>Every problem, each naming the key (relative to <c>Orleans:Membership</c>) and the fix.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        switch (NormalizedProvider)
        {
            case null:
                problems.Add($"{nameof(Provider)} = '{Provider}' is not a membership provider: use {Localhost} (one machine), {AzureTable} or {Redis}.");
                break;
            case AzureTable:
                if (string.IsNullOrWhiteSpace(ConnectionString) && ServiceUrl is null)
                    problems.Add($"{nameof(ConnectionString)} is missing: {AzureTable} membership needs a storage connection string, " +
                                 $"or {nameof(ServiceUrl)} (https://ACCOUNT.table.core.windows.net) to sign in with DefaultAzureCredential.");
                if (ServiceUrl is { IsAbsoluteUri: false } or { Scheme: not ("https" or "http") })
                    problems.Add($"{nameof(ServiceUrl)} = '{ServiceUrl}' must be an absolute http(s) URL such as https://ACCOUNT.table.core.windows.net.");
                if (!TableNamePattern().IsMatch(TableName))
                    problems.Add($"{nameof(TableName)} = '{TableName}' is not a valid Azure table name: 3–63 letters and digits, starting with a letter.");
                break;
            case Redis:
                if (string.IsNullOrWhiteSpace(ConnectionString))
                    problems.Add($"{nameof(ConnectionString)} is missing: {Redis} membership needs the server, e.g. redis.internal:6379 (add ,password=… if it has one).");
                break;
        }
        return problems;
    }

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9]{2,62}$")]
    private static partial Regex TableNamePattern();
}
