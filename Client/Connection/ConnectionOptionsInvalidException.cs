namespace Cluster.Client.Connection;

/// <summary>The connection settings are unusable; every problem names its setting (exit code 2).</summary>
public sealed class ConnectionOptionsInvalidException(IReadOnlyList<string> problems)
    : Exception("Connection settings are invalid:" + Environment.NewLine + "  - " + string.Join(Environment.NewLine + "  - ", problems))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}
