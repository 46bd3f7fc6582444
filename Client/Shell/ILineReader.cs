namespace Cluster.Client.Shell;

/// <summary>Where the shell's lines come from: a terminal line editor, or any text (a pipe, a test).</summary>
internal interface ILineReader
{
    /// <summary>The next line, or null at the end of input (Ctrl+D).</summary>
    string? ReadLine(string prompt);
}
