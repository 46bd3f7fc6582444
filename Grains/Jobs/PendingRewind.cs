using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Jobs;

namespace Cluster.Grains.Jobs;

/// <summary>
/// One operator's rewind, from its request to its answer: the placement that applies it carries this instance, so that
/// a rewind superseded while that placement ran is never answered with the older one's outcome (see
/// <see cref="BoundaryMailbox.RewindApplied"/>).
/// </summary>
internal sealed class PendingRewind(CheckpointManifest? manifest)
{
    /// <summary>The checkpoint to restore; null: the initial weights.</summary>
    public CheckpointManifest? Manifest { get; } = manifest;

    /// <summary>Completes when the rewind is applied, fails when it cannot be (or is superseded, or the job ends).</summary>
    public TaskCompletionSource<JobStatus> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
