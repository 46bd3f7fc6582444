using Cluster.Grains.Interfaces.Jobs;

namespace Cluster.Client.Views;

/// <summary>
/// <c>job submit --dry-run</c>: the spec that would be sent and what the console could check without submitting it.
/// <see cref="WouldSubmit"/> is false when a check failed (exit code 2). The model, optimizer and data checks run only
/// on the cluster, at submission.
/// </summary>
internal sealed record DryRunView(JobSpec Spec, bool WouldSubmit, IReadOnlyList<DryRunCheck> Checks, string NotChecked);

/// <summary>One check of a dry run: <see cref="Outcome"/> is "ok", "warning" (it would submit, but wait) or "problem".</summary>
internal sealed record DryRunCheck(string Check, string Outcome, string Detail);
