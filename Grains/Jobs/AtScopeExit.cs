namespace Cluster.Grains.Jobs;

/// <summary>
/// Runs an action when the scope that holds it ends (<c>await using</c>), whether it returns or throws: work deferred to
/// the end of a method that has more than one way out.
/// </summary>
internal sealed class AtScopeExit(Func<Task> action) : IAsyncDisposable
{
    public ValueTask DisposeAsync() => new(action());
}
