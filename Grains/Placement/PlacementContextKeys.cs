namespace Cluster.Grains.Placement;

/// <summary>Request-context keys that steer where a grain activates.</summary>
public static class PlacementContextKeys
{
    /// <summary>Node id whose silo must host the activation (pipeline stages).</summary>
    public const string Node = "cluster.placement.node";

    /// <summary>Silo name the activation should avoid (checkpoint shards keep their copy away from the stage).</summary>
    public const string AvoidSilo = "cluster.placement.avoid-silo";

    /// <summary>
    /// A second silo name a snapshot holder's activation should avoid, given alongside <see cref="AvoidSilo"/>: the
    /// silo its stage is on while the holder makes room on the one the stage moves to (the placement would otherwise
    /// learn it only from the grain directory, which may not answer in time on a loaded silo).
    /// </summary>
    public const string AlsoAvoidSilo = "cluster.placement.also-avoid-silo";

    /// <summary>
    /// The silo (its parsable address) a snapshot holder left because that silo shuts down: still Active in membership
    /// until its stop's next stage, so a placement elsewhere cannot know; the holder names it when it moves on.
    /// </summary>
    public const string LeftSilo = "cluster.placement.left-silo";
}
