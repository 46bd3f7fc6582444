using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Stages;
using Cluster.Grains.Placement;
using Microsoft.Extensions.Logging;
using Orleans.Runtime.Messaging;

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
    /// <para>
    /// The same for a copy that could not be reached (<see cref="Unreachable"/>): a holder whose silo was just killed is
    /// re-created only once membership declares that silo dead, and until then every call to it fails at once — with
    /// its key's grain-directory range owned by the dead silo, not even a new activation can register. Two quick tries
    /// counted it lost while it could still be re-created and take over the parcel its stage's failed move left
    /// (<c>KillDuringLeaveProcessTests</c>, seed 215: "s0: none", restored from the durable checkpoint 4 s after the
    /// kill, the dead silo declared dead a moment before). So the patient round asks an unreachable copy again, every
    /// <see cref="UnreachableRetryPause"/>, until it answers or <see cref="PatientAnswer"/> is spent.
    /// </para>
    /// <para>
    /// A copy counts as one that may answer later if any of its tries failed that way (<see cref="MayAnswerLater"/>),
    /// not only its last — seed 230 asked a stage at its stale address on a killed silo (unreachable), then found it
    /// with no node to run on — and a stage with no node to run on makes the patient round happen too: its move off a
    /// leaving silo failed, its copies wait in the parcel it left there, and its first holder, asked again, looks for
    /// that parcel on every ask (<c>CheckpointShardGrain.AskSiblingsWhenEmpty</c>).
    /// </para>
    /// </summary>
    private async Task<(long Step, double[] Losses)?> InMemorySnapshotStep(string jobId, int[][] copyHolders, int[][] staying, long newerThan, long countedEpoch)
    {
        bool unsure = false; // some copy timed out or could not be reached: it may still answer
        bool patient = false;
        var wait = QuickAnswer;
        var found = await Find();
        var chosen = Chosen();
        if (chosen is null && unsure)
        {
            // Some copy did not answer, and without it the job would fall back to stored state: a holder that is taking
            // its copies over after a move answers only once it has them, one whose silo just died only once it is
            // re-created — so ask everyone again, patiently.
            wait = PatientAnswer;
            patient = true;
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
            var shard = await AskOrNone(() => GrainFactory.GetGrain<ICheckpointShardGrain>(StageKeys.Shard(jobId, s)).GetSnapshotRecords(), []);
            var own = await Task.WhenAll(copyHolders[s].Select(async id => (Replica: id, Records: await AskOrNone(() => GrainFactory.GetGrain<IPipelineStageGrain>(StageKeys.Stage(jobId, id, s)).GetSnapshotRecords(), []))));
            var live = await Task.WhenAll(staying[s].Select(async id => (Replica: id, Step: await AskOrNone(() => GrainFactory.GetGrain<IPipelineStageGrain>(StageKeys.Stage(jobId, id, s)).GetLiveStateStep(countedEpoch), -1L),
                Own: own.Where(o => o.Replica == id).SelectMany(o => o.Records).ToArray())));
            return (Copies: (IReadOnlyCollection<SnapshotRecord>)[.. shard.Concat(own.SelectMany(o => o.Records)).Where(r => r.Step >= 0)
                .Concat(live.Where(l => l.Step >= 0).Select(l => new SnapshotRecord(l.Step, countedEpoch, null)))], Live: live.Where(l => l.Step >= 0).ToArray());
        }));

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

        // A copy's answer within this round's wait, or none.
        async Task<T> AskOrNone<T>(Func<Task<T>> ask, T none)
        {
            var deadline = time.GetUtcNow() + wait;
            bool mayAnswerLater = false; // on any try, not only the last (seed 230: unreachable, then "no node to run on")
            for (int attempt = 1; ; attempt++)
            {
                try
                {
                    return await ask().WaitAsync(Remaining(deadline), time);
                }
                catch (Exception e)
                {
                    mayAnswerLater |= MayAnswerLater(e);
                    if (RetryAfter(e, attempt, deadline) is not { } pause)
                    {
                        unsure |= mayAnswerLater;
                        LogNoMemorySnapshot(logger, e, jobId); // a copy that died with its silo, or one slow to answer
                        return none;
                    }
                    if (pause > TimeSpan.Zero) await Task.Delay(pause, time);
                }
            }
        }

        // When to ask a copy again after a failed call, or null to count it lost for this round:
        // - a timeout: never — the round's wait is spent;
        // - the first failure of any other kind: at once — a holder that moved off a silo since this silo last called it
        //   is reached at its old, now dead, silo once, and that failure drops the stale address;
        // - in the patient round, a copy that could not be reached: every UnreachableRetryPause while the wait lasts.
        TimeSpan? RetryAfter(Exception e, int attempt, DateTimeOffset deadline)
        {
            TimeSpan? pause = e is TimeoutException ? null
                : attempt == 1 ? TimeSpan.Zero
                : patient && Unreachable(e) ? UnreachableRetryPause
                : null;
            return pause is { } p && time.GetUtcNow() + p < deadline ? p : null;
        }

        TimeSpan Remaining(DateTimeOffset deadline) => TimeSpan.FromTicks(Math.Max((deadline - time.GetUtcNow()).Ticks, TimeSpan.TicksPerMillisecond));
    }

    /// <summary>
    /// A failure after which the copy asked, or one standing in for it, may still answer: a timeout, a copy that could
    /// not be reached (<see cref="Unreachable"/>), or a stage with no activation and no node to run on — its move off a
    /// leaving silo failed, and its copies wait in the parcel it left there, which its first holder (asked in the same
    /// round, and again in the patient one) takes over once it looks (<c>MigrationParcels</c>' second invariant).
    /// </summary>
    private static bool MayAnswerLater(Exception e) => e is TimeoutException or NodeUnavailableException || Unreachable(e);

    /// <summary>How long the patient round waits before asking a copy it could not reach again.</summary>
    private static readonly TimeSpan UnreachableRetryPause = TimeSpan.FromSeconds(1);

    /// <summary>
    /// A call that did not reach its grain — its silo cannot be connected to, or is unavailable, or the grain's new
    /// activation could not register in the grain directory — as opposed to an answer: it may reach it later.
    /// </summary>
    private static bool Unreachable(Exception e) => e is OrleansMessageRejectionException or SiloUnavailableException or ConnectionFailedException;
}
