namespace Cluster.Grains.Stages;

/// <summary>A stage grain was reached on a silo other than its node's; it deactivates, and the retry lands correctly.</summary>
[GenerateSerializer, Alias("cluster.StageMisplacedException")]
public sealed class StageMisplacedException(string message) : Exception(message);
