using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;

namespace Cluster.Silo.Configuration;

/// <summary>
/// Keeps secrets (connection strings, keys, passwords) out of logs and console output: describes the effective
/// configuration with secret values masked, and masks every configured secret value (and connection-string key parts)
/// in any text, e.g. an exception message.
/// </summary>
public sealed partial class SecretRedactor
{
    public const string Mask = "******";

    /// <summary>Sections whose effective values the silo reports at start.</summary>
    public static readonly string[] Sections = ["Orleans", "TrainingCluster", "Tls", "Observability", "Shutdown", "Kubernetes"];

    private readonly IConfiguration _configuration;
    private readonly string[] _secrets;

    public SecretRedactor(IConfiguration configuration)
    {
        _configuration = configuration;
        // Longest first, so a secret that contains another one is masked whole.
        _secrets = configuration.AsEnumerable()
            .Where(kv => IsSecretKey(kv.Key) && kv.Value is { Length: >= 4 })
            .Select(kv => kv.Value!)
            .Distinct(StringComparer.Ordinal)
            .OrderByDescending(s => s.Length)
            .ToArray();
    }

    /// <summary>A key whose value is a secret: its last segment names a connection string, password, key, secret or token.</summary>
    public static bool IsSecretKey(string key) => SecretKey().IsMatch(key[(key.LastIndexOf(':') + 1)..]);

    /// <summary>One "key = value" line per setting of <see cref="Sections"/>, secrets masked.</summary>
    public string DescribeEffectiveConfiguration()
    {
        var lines = new List<string>();
        foreach (string section in Sections)
        {
            foreach (var (key, value) in _configuration.GetSection(section).AsEnumerable().Where(kv => kv.Value is not null).OrderBy(kv => kv.Key, StringComparer.OrdinalIgnoreCase))
                lines.Add($"{key} = {(IsSecretKey(key) ? $"{Mask} (secret, {value!.Length} chars)" : Redact(value!))}");
        }
        return lines.Count == 0 ? "(all defaults)" : string.Join(Environment.NewLine, lines);
    }

    /// <summary><paramref name="text"/> with every configured secret and every connection-string credential masked.</summary>
    public string Redact(string text)
    {
        foreach (string secret in _secrets)
            text = text.Replace(secret, Mask, StringComparison.Ordinal);
        return CredentialPart().Replace(text, m => $"{m.Groups["name"].Value}={Mask}");
    }

    [GeneratedRegex("(ConnectionString|Password|Secret|Token|AccountKey|ApiKey|AccessKey|SasToken)$", RegexOptions.IgnoreCase)]
    private static partial Regex SecretKey();

    [GeneratedRegex("(?<name>AccountKey|SharedAccessSignature|SharedAccessKey|password|pwd)=(?<value>[^;,\\s\"']+)", RegexOptions.IgnoreCase)]
    private static partial Regex CredentialPart();
}
