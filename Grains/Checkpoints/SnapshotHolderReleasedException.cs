namespace Cluster.Grains.Checkpoints;

/// <summary>
/// A copy reached a snapshot holder after the job that owns it ended and released it (the epoch of the copy is that of
/// the release or older): nothing will read it, so it is refused rather than held until idle collection.
/// </summary>
[GenerateSerializer, Alias("cluster.SnapshotHolderReleasedException")]
public sealed class SnapshotHolderReleasedException(string message) : Exception(message);
