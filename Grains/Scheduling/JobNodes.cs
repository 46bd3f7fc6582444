namespace Cluster.Grains.Scheduling;

/// <summary>
/// A placed job's row of the scheduler's table: node, memory and label ("s1", "r2/s1") per flat stage index (rank by
/// rank), its stages per replica, the replica counts it can run with (descending; a job that is not elastic has just
/// one) and the job's epoch the placement was made for (0: not stated).
/// </summary>
internal sealed record JobNodes(string[] Nodes, long[] Memory, string[] Labels, int StagesPerReplica, IReadOnlyList<int> Counts, long Epoch)
{
    /// <summary>The job's spec allows stages on several device kinds (<see cref="DeviceKinds"/>); scale-up proposals honour it.</summary>
    public bool MixedDevices { get; init; }

    public int Replicas => Nodes.Length / StagesPerReplica;
}
