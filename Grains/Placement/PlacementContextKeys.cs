namespace Cluster.Grains.Placement;

/// <summary>Request-context keys that steer where a grain activates.</summary>
public static class PlacementContextKeys
{
    /// <summary>Node id whose silo must host the activation (pipeline stages).</summary>
    public const string Node = "cluster.placement.node";

    /// <summary>Silo name the activation should avoid (checkpoint shards keep their copy away from the stage).</summary>
    public const string AvoidSilo = "cluster.placement.avoid-silo";
}
