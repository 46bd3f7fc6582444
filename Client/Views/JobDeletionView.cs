using Cluster.Grains.Interfaces.Jobs;

namespace Cluster.Client.Views;

/// <summary><c>job delete</c>: what went (the job; with <see cref="Purged"/> its checkpoints and history too) and what was kept.</summary>
internal sealed record JobDeletionView(string JobId, JobState State, bool Cancelled, bool Purged, int CheckpointsDeleted, int CheckpointsKept)
{
    public static JobDeletionView From(JobDeletion d, bool cancelled) => new(d.JobId, d.State, cancelled, d.Purged, d.CheckpointsDeleted, d.CheckpointsKept);
}
