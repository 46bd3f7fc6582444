using System.Globalization;
using Cluster.Grains.Interfaces.Security;

namespace Cluster.Grains.Security;

/// <summary>
/// Who may do what (section <c>Authorization</c>), in force whenever TLS is on: every client call carries a signature
/// made with its certificate (<see cref="CallCredentials"/>), and the certificate becomes a principal through
/// <see cref="Principals"/>. A trusted certificate that no entry matches may do nothing.
/// </summary>
public sealed class ClientAuthorizationOptions
{
    public const string Section = "Authorization";

    /// <summary>The certificate map. <value>empty: no client may call anything.</value></summary>
    public List<PrincipalEntry> Principals { get; set; } = [];

    /// <summary>How far a call's signing time may be from the silo's clock. <value>5 minutes.</value></summary>
    public TimeSpan MaxClockSkew { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// A secret every silo of the cluster holds and nothing else does (at least 32 characters; e.g. <c>openssl rand
    /// -base64 48</c>). With it, a grain call counts as a silo's only when it carries a stamp made with this secret
    /// (<see cref="SiloCallProof"/>), so a client that forges the sender of its messages is still treated as a client.
    /// <value>none: a call's sender is what its message says (docs/security.md, "Forged senders"); a silo reachable
    /// beyond loopback then refuses to start unless <see cref="AllowUnstampedSiloCalls"/> is set.</value>
    /// </summary>
    public string? SiloSecret { get; set; }

    /// <summary>
    /// Silo only: start without <see cref="SiloSecret"/> although the silo or gateway port is reachable beyond loopback,
    /// trusting the sender each message names (a network only the cluster's machines reach). Every start then logs a
    /// warning. <value>false: such a silo refuses to start without a secret.</value>
    /// </summary>
    public bool AllowUnstampedSiloCalls { get; set; }

    /// <summary>Every problem, each naming the key (relative to <c>Authorization</c>) and the fix.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (MaxClockSkew <= TimeSpan.Zero)
            problems.Add($"{nameof(MaxClockSkew)} = {MaxClockSkew} must be positive, e.g. 00:05:00.");
        if (SiloSecret is { } secret && secret.Length < SiloCallProof.MinSecretLength)
            problems.Add($"{nameof(SiloSecret)} has {secret.Length} characters; it needs at least {SiloCallProof.MinSecretLength} (e.g. the output of `openssl rand -base64 48`), the same on every silo.");
        for (int i = 0; i < Principals.Count; i++)
        {
            var entry = Principals[i];
            string key = $"{nameof(Principals)}:{i.ToString(CultureInfo.InvariantCulture)}";
            if (string.IsNullOrWhiteSpace(entry.Subject) && string.IsNullOrWhiteSpace(entry.Thumbprint))
                problems.Add($"{key} matches no certificate: give {nameof(PrincipalEntry.Subject)} (e.g. CN=alice) or {nameof(PrincipalEntry.Thumbprint)}.");
            if (entry.Thumbprint is { } thumbprint && !string.IsNullOrWhiteSpace(thumbprint)
                && Normalize(thumbprint) is var hex && (hex.Length is not (40 or 64) || !hex.All(char.IsAsciiHexDigit)))
                problems.Add($"{key}:{nameof(PrincipalEntry.Thumbprint)} = '{thumbprint}' is not a SHA-1 (40 hex digits) or SHA-256 (64 hex digits) thumbprint.");
            if (ParseRole(entry.Role) is null)
                problems.Add($"{key}:{nameof(PrincipalEntry.Role)} = '{entry.Role}' is not a role: give viewer, operator or admin.");
            if (entry.Teams.Any(string.IsNullOrWhiteSpace))
                problems.Add($"{key}:{nameof(PrincipalEntry.Teams)} holds an empty team name.");
        }
        return problems;
    }

    /// <summary>The silo stamp of <see cref="SiloSecret"/>, or null when none is set.</summary>
    public SiloCallProof? CreateSiloProof(TimeProvider time) =>
        string.IsNullOrEmpty(SiloSecret) ? null : new SiloCallProof(SiloSecret, MaxClockSkew, time);

    /// <summary>The principal a certificate maps to (thumbprint entries first, then subject), or null.</summary>
    public CallerPrincipal? Find(string subject, string sha1Thumbprint, string sha256Thumbprint)
    {
        var entry = Principals.FirstOrDefault(e => !string.IsNullOrWhiteSpace(e.Thumbprint)
                        && (string.Equals(Normalize(e.Thumbprint), sha1Thumbprint, StringComparison.OrdinalIgnoreCase)
                            || string.Equals(Normalize(e.Thumbprint), sha256Thumbprint, StringComparison.OrdinalIgnoreCase)))
                    ?? Principals.FirstOrDefault(e => string.IsNullOrWhiteSpace(e.Thumbprint) && string.Equals(e.Subject?.Trim(), subject, StringComparison.Ordinal));
        if (entry is null || ParseRole(entry.Role) is not { } role) return null;
        string name = string.IsNullOrWhiteSpace(entry.Name) ? CommonName(subject) : entry.Name.Trim();
        return new CallerPrincipal(name, role, [.. entry.Teams.Select(t => t.Trim())]);
    }

    public static OperatorRole? ParseRole(string? role) => role?.Trim().ToLowerInvariant() switch
    {
        "viewer" => OperatorRole.Viewer,
        "operator" => OperatorRole.Operator,
        "admin" => OperatorRole.Admin,
        _ => null,
    };

    private static string CommonName(string subject)
    {
        foreach (string part in subject.Split(','))
        {
            string p = part.Trim();
            if (p.StartsWith("CN=", StringComparison.OrdinalIgnoreCase)) return p[3..];
        }
        return subject;
    }

    private static string Normalize(string thumbprint) =>
        thumbprint.Replace(":", "", StringComparison.Ordinal).Replace(" ", "", StringComparison.Ordinal).Trim();
}
