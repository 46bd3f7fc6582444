namespace Cluster.Client.Specs;

/// <summary>A job spec that cannot be submitted: every problem, each prefixed with the file (and field path) at fault.</summary>
internal sealed class SpecFileException(string message, IReadOnlyList<string> problems) : Exception(message)
{
    public IReadOnlyList<string> Problems { get; } = problems;
}
