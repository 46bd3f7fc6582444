using Cluster.Grains.Interfaces.Nodes;

namespace Cluster.Client.Views;

/// <summary>One node as <c>nodes</c> shows it. <see cref="State"/> is the last heartbeat's state, "Lost" when the
/// scheduler considers the node failed, "Unknown" before its first heartbeat. <see cref="Reason"/>: why an operator
/// cordoned or drained it, when they said. <see cref="HeldBackFor"/>: after a scheduler restart, the jobs (not yet
/// reported to it) whose stages the node says it runs, for which it is kept out of placement from
/// <see cref="HeldBackSince"/> until <see cref="HeldBackUntil"/> at the latest; null when it is not held.
/// <see cref="DeviceUtilization"/>: the share of the time between its last two heartbeats that its device ran
/// operations; null when unknown (before its second heartbeat) or when the node is lost. <see cref="NotPlaceable"/>: why the
/// scheduler gives it no new stage now besides the operator's marks and the restart hold (no heartbeat yet, its silo not
/// yet Active in the scheduler's membership view, …); null when placeable or lost.</summary>
internal sealed record NodeView(
    string NodeId,
    string Silo,
    string Device,
    string State,
    double? StepP50Ms,
    double? StepP99Ms,
    long? MemoryInUseBytes,
    long MemoryBytes,
    double Gigaflops,
    DateTimeOffset? LastHeartbeatAt,
    double? HeartbeatAgeSeconds,
    bool Cordoned,
    bool Draining,
    bool Lost,
    string? Straggler,
    int ErrorCount,
    string? LastError,
    IReadOnlyList<string> Stages,
    string? Reason = null,
    IReadOnlyList<string>? HeldBackFor = null,
    DateTimeOffset? HeldBackSince = null,
    DateTimeOffset? HeldBackUntil = null,
    bool FlakyDevice = false,
    double? DeviceUtilization = null,
    string? NotPlaceable = null)
{
    public static NodeView From(NodeInfo node, DateTimeOffset now) => new(
        node.Capabilities.NodeId,
        node.Capabilities.SiloName,
        node.Capabilities.Device,
        node.Lost ? "Lost" : node.Health?.State.ToString() ?? "Unknown",
        node.Health?.StepTimeP50Ms,
        node.Health?.StepTimeP99Ms,
        node.Health?.MemoryInUseBytes,
        node.Capabilities.MemoryBytes,
        node.Capabilities.GigaflopsMeasured,
        node.LastHeartbeatAt,
        node.LastHeartbeatAt is { } at ? Math.Max(0, (now - at).TotalSeconds) : null,
        node.Cordoned,
        node.Draining,
        node.Lost,
        node.Straggler,
        node.Health?.ErrorCount ?? 0,
        node.Health?.LastError,
        node.Stages,
        node.Reason,
        node.HeldBack?.JobIds,
        node.HeldBack?.Since,
        node.HeldBack?.Until,
        node.Health?.FlakyDevice ?? false,
        node.Lost ? null : node.Health?.DeviceUtilization,
        node.Lost ? null : node.NotPlaceable);
}
