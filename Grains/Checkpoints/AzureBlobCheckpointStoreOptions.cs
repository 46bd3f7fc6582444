using Azure.Core;
using Azure.Storage.Blobs;

namespace Cluster.Grains.Checkpoints;

/// <summary>Where <see cref="AzureBlobCheckpointStore"/> keeps checkpoints: a connection string, or an account URL and a credential.</summary>
public sealed class AzureBlobCheckpointStoreOptions
{
    /// <summary>A storage connection string (takes precedence over <see cref="AccountUrl"/>).</summary>
    public string? ConnectionString { get; set; }

    /// <summary>The blob endpoint, e.g. <c>https://myaccount.blob.core.windows.net</c>; authenticated with <see cref="Credential"/>.</summary>
    public Uri? AccountUrl { get; set; }

    /// <summary>Credential for <see cref="AccountUrl"/>; <c>DefaultAzureCredential</c> when null.</summary>
    public TokenCredential? Credential { get; set; }

    public string ContainerName { get; set; } = "checkpoints";

    /// <summary>
    /// The REST API version the client speaks. Not the SDK's newest: Azurite (the local emulator) rejects versions it
    /// does not know yet, and every version here is served by Azure too.
    /// </summary>
    public BlobClientOptions.ServiceVersion ServiceVersion { get; set; } = BlobClientOptions.ServiceVersion.V2026_06_06;

    /// <summary>Every problem with these options (empty when they are usable).</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(ConnectionString) && AccountUrl is null)
            problems.Add("Set either ConnectionString or AccountUrl.");
        if (string.IsNullOrWhiteSpace(ConnectionString) && AccountUrl is { } url &&
            (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp)))
        {
            problems.Add($"AccountUrl '{url}' must be an absolute http(s) URL.");
        }
        if (ContainerNameProblem(ContainerName) is { } containerProblem)
            problems.Add(containerProblem);
        if (!Enum.IsDefined(ServiceVersion))
            problems.Add($"ServiceVersion {(int)ServiceVersion} is not a version this SDK knows.");
        return problems;
    }

    /// <summary>Azure's container naming rules: 3–63 characters of lowercase letters, digits and single inner hyphens.</summary>
    private static string? ContainerNameProblem(string? name)
    {
        const string Rule = "3-63 characters of lowercase letters, digits and hyphens, starting and ending with a letter or digit, no '--'";
        if (string.IsNullOrEmpty(name))
            return $"ContainerName is empty; it must be {Rule}.";
        bool valid = name.Length is >= 3 and <= 63 &&
            name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-') &&
            name[0] != '-' && name[^1] != '-' && !name.Contains("--", StringComparison.Ordinal);
        return valid ? null : $"ContainerName '{name}' is not valid: it must be {Rule}.";
    }
}
