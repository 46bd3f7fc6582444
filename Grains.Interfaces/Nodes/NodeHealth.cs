namespace Cluster.Grains.Interfaces.Nodes;

/// <summary>A node's heartbeat: state, step-time percentiles over a window, memory, errors and the age of the device's operation in flight.</summary>
[GenerateSerializer, Immutable, Alias("cluster.NodeHealth")]
public sealed record NodeHealth(
    [property: Id(0)] string NodeId,
    [property: Id(1)] NodeState State,
    [property: Id(2)] long Sequence,
    [property: Id(3)] double StepTimeP50Ms,
    [property: Id(4)] double StepTimeP99Ms,
    [property: Id(5)] long MemoryInUseBytes,
    [property: Id(6)] int ErrorCount,
    [property: Id(7)] string? LastError,
    [property: Id(8)] DateTimeOffset SentAt,
    [property: Id(9)] int ActiveStages)
{
    /// <summary>
    /// How long the operation running on the node's device has been in flight when the heartbeat was sent, in ms; 0 when
    /// the device is idle. Past the node's hang limit the node reports itself <see cref="NodeState.Unhealthy"/>.
    /// </summary>
    [Id(10)]
    public double InFlightOperationMs { get; init; }

    /// <summary>The stages the node runs when the heartbeat was sent (empty: none, or a node of an older version).</summary>
    [Id(11)]
    public IReadOnlyList<NodeOccupant> Occupants { get; init; } = [];

    /// <summary>
    /// The node's device is flaky: too many device errors within the node's window, good steps between them or not
    /// (<see cref="LastError"/> says how many). The scheduler cordons such a node until an operator uncordons it.
    /// </summary>
    [Id(12)]
    public bool FlakyDevice { get; init; }

    /// <summary>
    /// The share (0–1) of the time between the node's last two heartbeats that its device spent running operations
    /// (a hung one included): low while it waits for work — at a data-parallel barrier, in a pipeline bubble, with no
    /// stage. Null when unknown: before the node's second heartbeat, or from a node of an older version.
    /// </summary>
    [Id(13)]
    public double? DeviceUtilization { get; init; }
}
