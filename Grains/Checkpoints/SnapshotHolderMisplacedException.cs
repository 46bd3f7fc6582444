namespace Cluster.Grains.Checkpoints;

/// <summary>
/// A snapshot holder was reached on the silo of the stage it protects (or of another holder of that stage); it moves
/// away with what it holds, and the stage's retry lands on its new silo.
/// </summary>
[GenerateSerializer, Alias("cluster.SnapshotHolderMisplacedException")]
public sealed class SnapshotHolderMisplacedException(string message) : Exception(message);
