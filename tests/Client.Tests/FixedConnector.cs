using Cluster.Client.Connection;

namespace Cluster.Client.Tests;

/// <summary>Hands the console the in-memory cluster's own client (the connection itself is tested apart).</summary>
internal sealed class FixedConnector(IClusterClient client) : IClusterConnector
{
    public bool IsConnected => true;

    public Task<IClusterClient> ConnectAsync(CancellationToken cancellationToken) => Task.FromResult(client);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
