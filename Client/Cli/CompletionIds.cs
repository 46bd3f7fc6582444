namespace Cluster.Client.Cli;

/// <summary>Job and node ids the interactive shell offers on Tab; refreshed between commands, empty until connected.</summary>
internal sealed class CompletionIds
{
    public IReadOnlyList<string> Jobs { get; set; } = [];

    public IReadOnlyList<string> Nodes { get; set; } = [];
}
