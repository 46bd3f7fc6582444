using Cluster.Grains.Interfaces.Jobs;

namespace Cluster.Client.Views;

/// <summary>
/// <c>job show</c>: the job's progress, its spec as submitted, where its stages run and its losses in brief;
/// <see cref="Notes"/>: its nodes' cordons and drains and its newest operator actions, each with why.
/// </summary>
internal sealed record JobDetailView(JobView Job, JobSpec Spec, IReadOnlyList<PlacementView> Placement, LossSummaryView Loss, IReadOnlyList<string>? Notes = null);
