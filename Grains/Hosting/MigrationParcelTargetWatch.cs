using Cluster.Grains.Checkpoints;
using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Placement;
using Microsoft.Extensions.Logging;

namespace Cluster.Grains.Hosting;

/// <summary>
/// Gives up this silo's migration parcels, and departures, whose migration heads to a silo declared dead
/// (<see cref="MigrationParcels.TargetsLost"/>): no activation will come for them, and a graceful stop waiting for them
/// would wait out its timeouts — except a stage's parcel, kept a short while for the stage's first holder to take over
/// (its heir). It looks at membership every <see cref="Period"/> while any is held — a placement may choose a silo a
/// moment before it is declared dead, so a look at each membership change alone could miss it — from the silo's start
/// until after its whole graceful stop (the drain's and the evacuation's waits included).
/// <para>
/// An orphan whose heir already holds every snapshot in it, or a later step of a newer epoch, is freed
/// (<see cref="MigrationParcels.FreeIfHeirHolds"/>, asked in <see cref="AskHeirs"/>), so a leave waits out the
/// orphan's keep only when the heir may need it (seen in <c>KillDuringLeaveProcessTests</c>: a leave of 35.9 s, an
/// orphan kept its 30 s for an heir that held copies of its own and so never asked). The heir of a stage's parcel that
/// nobody has taken for <see cref="MigrationParcels.UnclaimedAfter"/> while its target lives
/// (<see cref="MigrationParcels.Unclaimed"/>) is asked too, and the parcel freed once the job recovered past it; likewise
/// a holder's own unclaimed parcel, once the holder, active elsewhere, holds its steps or a later one (seed 230: a
/// leave held 81 s by a parcel whose new activation could not register). Only an heir that has an
/// activation is asked: asking would create one — on a silo no job chose, racing the job's own re-seeding — and an heir
/// re-created empty looks for parcels left for it anyway.
/// </para>
/// </summary>
internal sealed partial class MigrationParcelTargetWatch(MigrationParcels parcels, IClusterMembershipService membership, IGrainFactory grains,
    TimeProvider time, ILogger<MigrationParcelTargetWatch> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    /// <summary>How long an heir is given to answer what it holds.</summary>
    private static readonly TimeSpan HeirAnswerLimit = TimeSpan.FromSeconds(5);

    /// <summary>How often membership is looked at while a parcel or a departure is held.</summary>
    internal static readonly TimeSpan Period = TimeSpan.FromSeconds(1);

    private readonly CancellationTokenSource _stop = new();
    private Task _watching = Task.CompletedTask;

    public void Participate(ISiloLifecycle lifecycle)
    {
        ArgumentNullException.ThrowIfNull(lifecycle);
        // Started before and stopped after the stages the graceful stop's waits run in (Active, BecomeActive).
        lifecycle.Subscribe(nameof(MigrationParcelTargetWatch), ServiceLifecycleStage.ApplicationServices, Start, Stop);
    }

    private Task Start(CancellationToken cancellationToken)
    {
        _watching = Watch(_stop.Token);
        return Task.CompletedTask;
    }

    private async Task Stop(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync();
        await _watching;
        _stop.Dispose();
    }

    private async Task Watch(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(Period, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                if (parcels.Count == 0) continue;
                var dead = NodeSilos.Dead(membership);
                if (dead.Count > 0)
                {
                    var (lost, kept) = parcels.TargetsLost(dead);
                    if (lost > 0) LogGivenUp(logger, lost);
                    if (kept > 0) LogKeptForHeirs(logger, kept, MigrationParcels.OrphanKeep.TotalSeconds);
                }
                await AskHeirs(stop);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // the silo has stopped
        }
    }

    /// <summary>
    /// Frees each orphan whose heir, active somewhere, already holds every snapshot in it or has moved past it; each
    /// unclaimed stage parcel whose heir has moved past it; and each unclaimed holder's parcel whose holder, active
    /// elsewhere, holds its steps or a later one (see the class). Those grains are asked at once, each for
    /// <see cref="HeirAnswerLimit"/> at most.
    /// </summary>
    private Task AskHeirs(CancellationToken stop)
    {
        var asks = new List<Task>();
        foreach (var (parcel, heir, records) in parcels.Orphans())
            asks.Add(Ask(heir, held => parcels.FreeIfHeirHolds(parcel, held), () => LogHeirHolds(logger, heir, Steps(records)), stop));
        string holderPrefix = grains.GetGrain<ICheckpointShardGrain>("-").GetGrainId().Type + "/";
        foreach (var (parcel, key, heir, records) in parcels.Unclaimed())
        {
            if (heir is not null)
                asks.Add(Ask(heir, held => parcels.FreeIfHeirHolds(parcel, held), () => LogUnclaimedPassed(logger, Steps(records), heir), stop));
            else if (key is not null && key.StartsWith(holderPrefix, StringComparison.Ordinal))
                asks.Add(Ask(key, held => parcels.FreeIfOwnerHolds(parcel, held), () => LogUnclaimedHeld(logger, Steps(records), key), stop));
        }
        return Task.WhenAll(asks);

        static string Steps(IReadOnlyList<SnapshotRecord> records) => string.Join(", ", records.Select(r => r.Step));
    }

    /// <summary>Asks holder <paramref name="holderId"/>, if it has an activation, what it holds, and frees a parcel by its answer (<paramref name="free"/>).</summary>
    private async Task Ask(string holderId, Func<IReadOnlyCollection<SnapshotRecord>, bool> free, Action freed, CancellationToken stop)
    {
        try
        {
            var holder = grains.GetGrain(GrainId.Parse(holderId)).AsReference<ICheckpointShardGrain>();
            if (await grains.GetGrain<IManagementGrain>(0).GetActivationAddress(holder).AsTask().WaitAsync(HeirAnswerLimit, time, stop) is null) return;
            var held = await holder.GetSnapshotRecords().WaitAsync(HeirAnswerLimit, time, stop);
            if (free(held)) freed();
        }
        catch (Exception e) when (!stop.IsCancellationRequested) // whatever it was, the watch goes on
        {
            LogHeirUnasked(logger, holderId, Jobs.ShortError.Of(e)); // kept its time, as before
        }
    }

    [LoggerMessage(3, LogLevel.Information, "Freed an orphaned stage migration parcel (steps {Steps}): its heir {Heir} already holds them, or a later step of a newer epoch")]
    private static partial void LogHeirHolds(ILogger logger, string heir, string steps);

    [LoggerMessage(5, LogLevel.Information, "Freed a stage migration parcel its new activation never took (steps {Steps}): its heir {Heir} holds a later step of a newer epoch, the job recovered past it")]
    private static partial void LogUnclaimedPassed(ILogger logger, string steps, string heir);

    [LoggerMessage(6, LogLevel.Information, "Freed a snapshot holder's migration parcel its new activation never took (steps {Steps}): {Holder}, active elsewhere, holds them or a later step")]
    private static partial void LogUnclaimedHeld(ILogger logger, string steps, string holder);

    [LoggerMessage(4, LogLevel.Information, "Snapshot holder {Heir}, which may take a migration parcel over, could not be asked what it holds ({Error}); the parcel is kept for it")]
    private static partial void LogHeirUnasked(ILogger logger, string heir, string error);

    [LoggerMessage(1, LogLevel.Warning, "Gave up {Count} migration parcel(s) or departure(s) whose migration headed to a silo declared dead: no activation will take them, and the copies they held go")]
    private static partial void LogGivenUp(ILogger logger, int count);

    [LoggerMessage(2, LogLevel.Warning, "Kept {Count} stage migration parcel(s) whose migration headed to a silo declared dead for their first snapshot holders to take over (at most {Seconds} s): they may hold the stage's only surviving copy")]
    private static partial void LogKeptForHeirs(ILogger logger, int count, double seconds);
}
