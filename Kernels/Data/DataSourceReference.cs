using System.Text.RegularExpressions;

namespace Cluster.Kernels.Data;

/// <summary>
/// A data source as a job names it: a path, optionally pinned to its content as <c>path@sha256:&lt;64 hex digits&gt;</c>
/// (as container images are). A pinned source opens only where the file's SHA-256 matches, so every stage of a job
/// reads the same bytes, and a checkpoint manifest that records the source records the content too.
/// </summary>
public sealed partial record DataSourceReference(string Path, string? Sha256)
{
    public const string PinMarker = "@sha256:";

    public static DataSourceReference Parse(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var match = PinPattern().Match(source);
        return match.Success
            ? new DataSourceReference(source[..match.Index], match.Groups["hash"].Value.ToLowerInvariant())
            : new DataSourceReference(source, null);
    }

    /// <summary>The source pinned to <paramref name="identity"/>: <c>path@sha256:…</c>.</summary>
    public static string Pin(string source, DataIdentity identity)
    {
        ArgumentNullException.ThrowIfNull(identity);
        return Parse(source).Path + PinMarker + identity.Sha256;
    }

    public override string ToString() => Sha256 is null ? Path : Path + PinMarker + Sha256;

    [GeneratedRegex(@"@sha256:(?<hash>[0-9A-Fa-f]{64})\z")]
    private static partial Regex PinPattern();
}
