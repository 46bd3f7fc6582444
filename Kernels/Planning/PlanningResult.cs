namespace Cluster.Kernels.Planning;

/// <summary>The fastest plan that fits, or the reason none does; with every layout considered.</summary>
public sealed record PlanningResult(PlanEstimate? Best, IReadOnlyList<PlanEstimate> Considered, string? Refusal);
