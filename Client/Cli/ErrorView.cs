namespace Cluster.Client.Cli;

/// <summary>With <c>--json</c>, a failed command writes <c>{"error": …}</c> on standard output as well.</summary>
internal sealed record ErrorView(int ExitCode, string Kind, string Message, IReadOnlyList<string> Problems, IReadOnlyList<string> Suggestions);
