namespace Cluster.Client.Cli;

/// <summary>Bad input the parser could not catch (exit code 2); the message says what to give instead.</summary>
internal sealed class UsageException(string message, IReadOnlyList<string>? problems = null) : Exception(message)
{
    public IReadOnlyList<string> Problems { get; } = problems ?? [];
}
