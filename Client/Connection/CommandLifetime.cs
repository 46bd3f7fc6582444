using Microsoft.Extensions.Hosting;

namespace Cluster.Client.Connection;

/// <summary>A host lifetime that leaves signals alone: the client lives exactly as long as the command using it.</summary>
internal sealed class CommandLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
