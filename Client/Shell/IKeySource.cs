namespace Cluster.Client.Shell;

/// <summary>Key presses for the line editor: the console's, or a scripted list in tests.</summary>
internal interface IKeySource
{
    ConsoleKeyInfo ReadKey();
}
