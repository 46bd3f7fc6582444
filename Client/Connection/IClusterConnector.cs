namespace Cluster.Client.Connection;

/// <summary>Hands commands a connected cluster client; connects on first use and keeps the connection.</summary>
public interface IClusterConnector : IAsyncDisposable
{
    /// <summary>The connected client; throws <see cref="ClusterUnreachableException"/> when no gateway answers.</summary>
    Task<IClusterClient> ConnectAsync(CancellationToken cancellationToken);

    /// <summary>Whether a connection has been made (and not disposed).</summary>
    bool IsConnected { get; }
}
