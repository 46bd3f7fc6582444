namespace Cluster.Grains.Security;

/// <summary>
/// One line of the certificate map (<c>Authorization:Principals:N</c>): the client certificate it matches — by
/// <see cref="Thumbprint"/> (SHA-1 or SHA-256 hex) or by exact <see cref="Subject"/> (e.g. <c>CN=alice</c>) — and the
/// principal it becomes.
/// </summary>
public sealed class PrincipalEntry
{
    /// <summary>The certificate's subject, exactly as .NET writes it (<c>CN=alice, O=Example</c>).</summary>
    public string? Subject { get; set; }

    /// <summary>The certificate's SHA-1 or SHA-256 thumbprint (hex; colons and spaces ignored).</summary>
    public string? Thumbprint { get; set; }

    /// <summary>The principal's name in logs and events. <value>the subject's CN.</value></summary>
    public string? Name { get; set; }

    /// <summary><c>viewer</c>, <c>operator</c> or <c>admin</c>.</summary>
    public string Role { get; set; } = "";

    /// <summary>Teams an operator is limited to; empty: every team.</summary>
    public List<string> Teams { get; set; } = [];
}
