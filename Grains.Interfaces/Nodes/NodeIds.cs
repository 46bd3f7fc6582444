namespace Cluster.Grains.Interfaces.Nodes;

/// <summary>Node ids are "&lt;silo name&gt;/&lt;device&gt;": the silo part decides where the node grain lives.</summary>
public static class NodeIds
{
    public static string Create(string siloName, string device) => $"{siloName}/{device}";

    /// <summary>The silo part of a node id, or null when the id has no '/'.</summary>
    public static string? SiloOf(string nodeId)
    {
        int slash = nodeId.LastIndexOf('/');
        return slash > 0 ? nodeId[..slash] : null;
    }
}
