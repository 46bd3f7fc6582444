using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Stages;

namespace Cluster.Grains.Checkpoints;

/// <summary>The holder's last guard of release finality: a new activation asks its job before it holds a first copy.</summary>
internal sealed partial class CheckpointShardGrain
{
    /// <summary>How long a new activation waits for its job's answer before it holds the copy anyway.</summary>
    private static readonly TimeSpan JobCheckLimit = TimeSpan.FromSeconds(10);

    private Task<JobStatus?>? _jobCheck; // a new activation's one question to its job, shared by the copies that race in

    /// <summary>
    /// The released activation's linger (see the class's invariant) refuses copies that arrive within the response
    /// timeout of its release. One later still — sent to a holder whose silo was frozen past that and thawed, or by a
    /// silo configured with a longer response timeout — finds no activation and would create a new one that holds it
    /// until idle collection. So an activation that has seen nothing of its job yet (no epoch, nothing held or
    /// released) asks the job, the owner of its epoch, once: a copy of an ended job's last epoch or older is refused
    /// as the linger would (and this activation lingers released), a copy of an epoch the job has left is stale. A job
    /// that cannot answer within <see cref="JobCheckLimit"/> does not hold the snapshot up: the copy is held, as
    /// before this check (the redundancy invariant outranks reclaiming memory).
    /// </summary>
    private async Task RefuseIfJobLeft(long epoch)
    {
        if (_epoch >= 0 || _releasedEpoch >= 0 || _held.Count > 0) return; // not new: this job's epochs reached it before
        _jobCheck ??= AskJob();
        if (await _jobCheck is not { } job) return;
        if (job.State.IsTerminal() && epoch <= job.Epoch)
        {
            if (_releasedEpoch < job.Epoch)
            {
                LogLateCopyAfterJobEnded(logger, this.GetPrimaryKeyString(), epoch, job.State.ToString(), job.Epoch);
                MarkReleased(job.Epoch);
            }
            RefuseStale(epoch);
        }
        if (epoch < job.Epoch)
            throw new StaleEpochException(this.GetPrimaryKeyString(), epoch, job.Epoch);
    }

    private async Task<JobStatus?> AskJob()
    {
        string jobId = SnapshotHolders.Parse(this.GetPrimaryKeyString()).JobId;
        try
        {
            return await GrainFactory.GetGrain<ITrainingJobGrain>(jobId).GetStatus().WaitAsync(JobCheckLimit, time);
        }
        catch (Exception e)
        {
            LogJobUnreachable(logger, e, this.GetPrimaryKeyString());
            return null;
        }
    }
}
