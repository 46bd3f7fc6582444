using Cluster.Grains.Interfaces.Security;

namespace Cluster.Grains.Security;

/// <summary>Who makes a client call: a name, a role and (empty: all) the teams the role is limited to.</summary>
public sealed record CallerPrincipal(string Name, OperatorRole Role, IReadOnlyList<string> Teams)
{
    /// <summary>The local user of a silo without TLS (loopback only): admin.</summary>
    public static CallerPrincipal Local { get; } = new("local", OperatorRole.Admin, []);

    public override string ToString() =>
        Teams.Count == 0 ? $"{Name} ({Role.ToString().ToLowerInvariant()})" : $"{Name} ({Role.ToString().ToLowerInvariant()} of {string.Join(", ", Teams)})";
}
