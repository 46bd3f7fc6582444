using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Stages;
using Microsoft.Extensions.Logging;

namespace Cluster.Grains.Jobs;

/// <summary>A recovery's search for the newest step every stage still holds in memory somewhere.</summary>
internal sealed partial class TrainingJobGrain
{
    /// <summary>How long a recovery first waits for each copy's answer: a copy on a frozen silo costs no more than this.</summary>
    private static readonly TimeSpan QuickAnswer = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long it waits when a copy that did not answer in <see cref="QuickAnswer"/> decides between memory and stored
    /// state: a holder taking its copies over after a move answers only once they are across (up to
    /// <c>MigratedSnapshots.ChunkTimeout</c> a chunk), and a silo frozen past this is declared dead by then.
    /// </summary>
    private static readonly TimeSpan PatientAnswer = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The newest step for which every stage still has an in-memory snapshot somewhere — the stage's own copy (on a
    /// live silo, whether or not the new placement keeps the stage there: a moved stage takes its copies along), its
    /// shard's (on another silo), or the live state, of the counted epoch, of a replica the new placement keeps on its
    /// node (<paramref name="staying"/>; every rank holds the state rank 0 copied, see <c>PipelineStageGrain.LiveState</c>)
    /// — when newer than every committed checkpoint. One lost silo never takes both copies of a stage: a stage on a live
    /// node is asked for its own copies even when the placement moves it (<paramref name="copyHolders"/>), because the
    /// failure that took its holder may be exactly why it looks lost to the scheduler. Only staying replicas offer their
    /// live state: a stage the scheduler moves off its node (a hung device, say) is not asked to copy anything there. A
    /// staying replica whose live state is of the step chosen and holds no copy of it keeps one now, before any stage is
    /// configured: its own restore and its peers' read it like any own copy. A copy that does not answer within
    /// <see cref="QuickAnswer"/> counts as lost, unless without it no step is found: then every copy is asked again with
    /// <see cref="PatientAnswer"/> (<c>MigrationTakeKillTests</c>: a stage's silo lost while its holder slowly takes
    /// its copies over after a move restarted the job from its initial weights, "s1: none", without this second round).
    /// </summary>
    private async Task<(long Step, double[] Losses)?> InMemorySnapshotStep(string jobId, int[][] copyHolders, int[][] staying, long newerThan, long countedEpoch)
    {
        bool timedOut = false;
        var wait = QuickAnswer;
        var found = await Find();
        var chosen = Chosen();
        if (chosen is null && timedOut)
        {
            // Some copy did not answer in time, and without it the job would fall back to stored state: a holder that is
            // taking its copies over after a move answers only once it has them, so ask everyone again, patiently.
            wait = PatientAnswer;
            found = await Find();
            chosen = Chosen();
        }
        _memorySnapshots = string.Join(", ", found.Select((f, s) => $"s{s}: {(f.Copies.Count == 0 ? "none" : string.Join("/", f.Copies.Select(r => r.Step).Distinct().Order()))}"
            + (f.Live.Length == 0 ? "" : $" (live: {string.Join(", ", f.Live.Select(l => $"r{l.Replica} at {l.Step}"))})")));
        if (chosen is { } point)
            await Task.WhenAll(found.SelectMany((f, s) => f.Live.Where(l => l.Step == point.Step && !l.Own.Any(r => r.Step == point.Step))
                .Select(l => KeepLiveState(StageKeys.Stage(jobId, l.Replica, s), point.Step))));
        return chosen;

        (long Step, double[] Losses)? Chosen() => RecoveryPoint.InMemoryStep([.. found.Select(f => f.Copies)], newerThan, S.CompletedSteps, countedEpoch,
            _sentUpdateEpoch == countedEpoch ? _sentUpdateLosses : null);

        Task<(IReadOnlyCollection<SnapshotRecord> Copies, (int Replica, long Step, SnapshotRecord[] Own)[] Live)[]> Find() => Task.WhenAll(Enumerable.Range(0, copyHolders.Length).Select(async s =>
        {
            var shard = await LatestOrNone(() => GrainFactory.GetGrain<ICheckpointShardGrain>(StageKeys.Shard(jobId, s)).GetSnapshotRecords());
            var own = await Task.WhenAll(copyHolders[s].Select(async id => (Replica: id, Records: await LatestOrNone(() => GrainFactory.GetGrain<IPipelineStageGrain>(StageKeys.Stage(jobId, id, s)).GetSnapshotRecords()))));
            var live = await Task.WhenAll(staying[s].Select(async id => (Replica: id, Step: await LiveStepOrNone(StageKeys.Stage(jobId, id, s)),
                Own: own.Where(o => o.Replica == id).SelectMany(o => o.Records).ToArray())));
            return (Copies: (IReadOnlyCollection<SnapshotRecord>)[.. shard.Concat(own.SelectMany(o => o.Records)).Where(r => r.Step >= 0)
                .Concat(live.Where(l => l.Step >= 0).Select(l => new SnapshotRecord(l.Step, countedEpoch, null)))], Live: live.Where(l => l.Step >= 0).ToArray());
        }));

        async Task<long> LiveStepOrNone(string stage)
        {
            try
            {
                return await GrainFactory.GetGrain<IPipelineStageGrain>(stage).GetLiveStateStep(countedEpoch).WaitAsync(wait, time);
            }
            catch (Exception e)
            {
                timedOut |= e is TimeoutException;
                LogNoMemorySnapshot(logger, e, jobId); // a replica that died with its silo
                return -1;
            }
        }

        async Task KeepLiveState(string stage, long step)
        {
            try
            {
                bool kept = await GrainFactory.GetGrain<IPipelineStageGrain>(stage).KeepLiveState(countedEpoch, step).WaitAsync(TimeSpan.FromSeconds(40));
                if (!kept) LogLiveStateNotKept(logger, jobId, stage, step, "its state moved on, or it left the epoch");
            }
            catch (Exception e)
            {
                // Its copy is then missing: the stage's restore reads another one, or the restore falls back to the checkpoint.
                LogLiveStateNotKept(logger, jobId, stage, step, ShortError.Of(e));
            }
        }

        async Task<SnapshotRecord[]> LatestOrNone(Func<Task<SnapshotRecord[]>> read)
        {
            try
            {
                return await read().WaitAsync(wait, time);
            }
            catch (Exception e) when (e is not TimeoutException)
            {
                // A holder that moved off a silo since this silo last called it is reached at its old, now dead, silo
                // once; that failure drops the stale address, so ask again before counting its copy as lost.
                return await AgainOrNone(read);
            }
            catch (Exception e)
            {
                timedOut = true;
                LogNoMemorySnapshot(logger, e, jobId); // a copy that died with its silo, or one slow to answer
                return [];
            }
        }

        async Task<SnapshotRecord[]> AgainOrNone(Func<Task<SnapshotRecord[]>> read)
        {
            try
            {
                return await read().WaitAsync(wait, time);
            }
            catch (Exception e)
            {
                timedOut |= e is TimeoutException;
                LogNoMemorySnapshot(logger, e, jobId); // a copy that died with its silo
                return [];
            }
        }
    }
}
