namespace Cluster.Grains.Interfaces.Nodes;

/// <summary>An operator named a node the scheduler does not know; <see cref="Known"/> lists the ones it does.</summary>
[GenerateSerializer, Alias("cluster.NodeNotFoundException")]
public sealed class NodeNotFoundException : Exception
{
    public NodeNotFoundException(string nodeId, IReadOnlyList<string> known)
        : base($"Node '{nodeId}' is unknown to the scheduler. Known nodes: {(known.Count == 0 ? "none (no silo has registered yet)" : string.Join(", ", known.Take(20)))}{(known.Count > 20 ? ", …" : "")}.")
    {
        NodeId = nodeId;
        Known = [.. known];
    }

    [Id(0)] public string NodeId { get; private set; }

    [Id(1)] public string[] Known { get; private set; }
}
