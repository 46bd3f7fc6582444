namespace Cluster.Grains.Checkpoints;

/// <summary>
/// A stage could not hand its snapshot to a holder for longer than a silo's death takes to be declared: the snapshot
/// is not held away from the stage. Deliberately not an Orleans rejection: the job's recovery reads the silos named in
/// those as unreachable, and this stage's silo is not.
/// </summary>
[GenerateSerializer, Alias("cluster.SnapshotHolderUnreachableException")]
public sealed class SnapshotHolderUnreachableException(string message) : Exception(message);
