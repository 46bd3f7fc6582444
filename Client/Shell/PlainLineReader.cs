namespace Cluster.Client.Shell;

/// <summary>Lines from a reader with no editing: the shell's input when it is piped (<c>echo status | console</c>).</summary>
internal sealed class PlainLineReader(TextReader input) : ILineReader
{
    public string? ReadLine(string prompt) => input.ReadLine();
}
