namespace Cluster.Client.Cli;

/// <summary>What a table renderer is asked for: the wide column set (<c>-o wide</c>), and no header or border (<c>--no-headers</c>).</summary>
internal sealed record TableOptions(bool Wide = false, bool NoHeaders = false)
{
    public static readonly TableOptions Default = new();
}
