namespace Cluster.Client.Cli;

/// <summary>
/// Ctrl+C cancels the command that is running (which then unsubscribes and exits 130), not the process: one-shot
/// runs have one command; the shell starts a new one per line and stays.
/// </summary>
internal sealed class Interrupts : IDisposable
{
    private CancellationTokenSource _current = new();

    /// <summary>A token for the next command.</summary>
    public CancellationToken Begin()
    {
        if (_current.IsCancellationRequested)
        {
            _current.Dispose();
            _current = new CancellationTokenSource();
        }
        return _current.Token;
    }

    public void Interrupt() => _current.Cancel();

    public void Dispose() => _current.Dispose();
}
