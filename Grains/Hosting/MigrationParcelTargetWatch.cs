using Cluster.Grains.Checkpoints;
using Cluster.Grains.Placement;
using Microsoft.Extensions.Logging;

namespace Cluster.Grains.Hosting;

/// <summary>
/// Gives up this silo's migration parcels, and departures, whose migration heads to a silo declared dead
/// (<see cref="MigrationParcels.TargetsLost"/>): no activation will come for them, and a graceful stop waiting for them
/// would wait out its timeouts — except a stage's parcel, kept a short while for the stage's first holder to take over. It looks at membership every <see cref="Period"/> while any is held — a placement may
/// choose a silo a moment before it is declared dead, so a look at each membership change alone could miss it — from
/// the silo's start until after its whole graceful stop (the drain's and the evacuation's waits included).
/// </summary>
internal sealed partial class MigrationParcelTargetWatch(MigrationParcels parcels, IClusterMembershipService membership, TimeProvider time,
    ILogger<MigrationParcelTargetWatch> logger) : ILifecycleParticipant<ISiloLifecycle>
{
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
                if (dead.Count == 0) continue;
                var (lost, kept) = parcels.TargetsLost(dead);
                if (lost > 0) LogGivenUp(logger, lost);
                if (kept > 0) LogKeptForHeirs(logger, kept, MigrationParcels.OrphanKeep.TotalSeconds);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // the silo has stopped
        }
    }

    [LoggerMessage(1, LogLevel.Warning, "Gave up {Count} migration parcel(s) or departure(s) whose migration headed to a silo declared dead: no activation will take them, and the copies they held go")]
    private static partial void LogGivenUp(ILogger logger, int count);

    [LoggerMessage(2, LogLevel.Warning, "Kept {Count} stage migration parcel(s) whose migration headed to a silo declared dead for their first snapshot holders to take over (at most {Seconds} s): they may hold the stage's only surviving copy")]
    private static partial void LogKeptForHeirs(ILogger logger, int count, double seconds);
}
