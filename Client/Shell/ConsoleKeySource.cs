namespace Cluster.Client.Shell;

/// <summary>The terminal's keys, unechoed; Ctrl+C arrives as a key while the prompt is shown (it clears the line).</summary>
internal sealed class ConsoleKeySource : IKeySource
{
    public ConsoleKeyInfo ReadKey()
    {
        bool treat = Console.TreatControlCAsInput;
        Console.TreatControlCAsInput = true;
        try
        {
            return Console.ReadKey(intercept: true);
        }
        finally
        {
            Console.TreatControlCAsInput = treat;
        }
    }
}
