using Cluster.Grains.Interfaces.Scheduling;

namespace Cluster.Grains.Scheduling;

/// <summary>What a placement attempt chose: the decision, the flat demands it was for, their labels, and whether a refusal may make room (shrink or preempt others).</summary>
internal sealed record PlacementChoice(PlacementDecision Decision, IReadOnlyList<StageDemand> Demands, IReadOnlyList<string> Labels, bool MayPreempt);
