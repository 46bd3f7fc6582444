namespace Cluster.Grains.Placement;

/// <summary>A node (or the silo it lives on) cannot be reached or does not exist.</summary>
[GenerateSerializer, Alias("cluster.NodeUnavailableException")]
public sealed class NodeUnavailableException(string message) : Exception(message);
