using Cluster.Grains.Checkpoints;
using Cluster.Grains.Interfaces.Checkpoints;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cluster.Grains.Hosting;

/// <summary>
/// A silo that shuts down gracefully moves the snapshot holders it runs to other silos, with their copies, before
/// Orleans deactivates its grains (rule (6) of the redundancy invariant, on <c>CheckpointShardGrain</c>): a graceful leave
/// is no failure and must leave every stage's state of the last step on two silos. It runs in the silo's <c>Active</c>
/// stop stage, beside the host's drain of its nodes (<c>DrainOnShutdown</c>), while the silo is still Active and so can
/// serve the copies it keeps as parcels (<see cref="MigrationParcels"/>) to the holders' new activations — a silo past
/// that stage activates nothing, the parcel's grain included. It asks every holder here to leave
/// (<see cref="ICheckpointShardGrain.LeaveShuttingDownSilo"/>) and waits until the parcels are taken; holders that came
/// meanwhile (a holder making room for a stage the drain moves may land here) are asked in a further pass, at most
/// <see cref="MaxPasses"/>. All of it within <see cref="TrainingClusterOptions.HolderEvacuationTimeout"/>. It first marks
/// the silo as leaving (<see cref="LocalSnapshotHolders.SiloLeaving"/>): the placement director places no holder here any
/// more, and a holder that comes all the same — placed by another silo, which cannot know, or after the last pass while
/// the drain still runs — moves on by itself once it holds a copy; its parcel is waited for in the next stop stage
/// (<see cref="WaitForLateParcelsAsync"/>), after the whole Active stage. A forced stop (its token cancelled from the
/// start) asks nothing.
/// </summary>
internal sealed partial class SnapshotHolderEvacuationOnShutdown(
    LocalSnapshotHolders holders, MigrationParcels parcels, IGrainFactory grains, ILocalSiloDetails localSilo, IOptions<TrainingClusterOptions> options, TimeProvider time,
    ILogger<SnapshotHolderEvacuationOnShutdown> logger)
    : ILifecycleParticipant<ISiloLifecycle>
{
    /// <summary>How many times the silo looks again for holders that arrived while the ones before were leaving.</summary>
    internal const int MaxPasses = 4;

    public void Participate(ISiloLifecycle lifecycle)
    {
        lifecycle.Subscribe(nameof(SnapshotHolderEvacuationOnShutdown), ServiceLifecycleStage.Active, _ => Task.CompletedTask, StopAsync);
        lifecycle.Subscribe(nameof(SnapshotHolderEvacuationOnShutdown), ServiceLifecycleStage.BecomeActive, _ => Task.CompletedTask, WaitForLateParcelsAsync);
    }

    internal async Task StopAsync(CancellationToken stopping)
    {
        if (stopping.IsCancellationRequested) return;
        holders.MarkSiloLeaving(); // no holder is placed here from now on; one that comes all the same moves on with its first copy
        await ActivateParcels(stopping);
        var started = time.GetUtcNow();
        int moved = 0;
        bool done = await WithinEvacuationTimeout(async stop =>
        {
            for (int pass = 0; pass < MaxPasses; pass++)
            {
                var leaving = await Task.WhenAll(holders.Keys.Select(key => Leave(key, stop)));
                if (!leaving.Any(l => l)) break;
                moved += leaving.Count(l => l);
                await parcels.WhenEmpty(stop); // every holder that left has posted its parcel, and its new activation taken it
            }
        }, stopping);
        if (!done) LogEvacuationTimedOut(logger, moved, options.Value.HolderEvacuationTimeout.TotalSeconds, holders.Keys.Count, parcels.Count);
        else LogEvacuated(logger, moved, (time.GetUtcNow() - started).TotalSeconds); // 0 too: a holder that got a copy after MarkSiloLeaving left by itself first
    }

    /// <summary>
    /// After the whole Active stage (the host's drain included): the parcels of holders that came here after the last
    /// pass — while the drain still ran — and moved on by themselves. The silo takes no new activation now, but its
    /// parcel grain, activated in the Active stage (<see cref="ActivateParcels"/>), still serves their new activations.
    /// </summary>
    internal async Task WaitForLateParcelsAsync(CancellationToken stopping)
    {
        if (!holders.SiloLeaving) return; // a forced stop: nothing was asked
        holders.MarkSiloLeft(); // no holder departs after this: the wait below counts every one that did
        if (stopping.IsCancellationRequested || parcels.Count == 0) return;
        var started = time.GetUtcNow();
        int late = parcels.Count;
        LogWaitingForLateParcels(logger, late);
        if (await WithinEvacuationTimeout(parcels.WhenEmpty, stopping))
            LogLateParcelsTaken(logger, late, (time.GetUtcNow() - started).TotalSeconds);
        else
            LogLateParcelsTimedOut(logger, options.Value.HolderEvacuationTimeout.TotalSeconds, late, parcels.Count);
    }

    /// <summary>
    /// Runs one part of the evacuation until it ends, the stop is forced (<paramref name="stopping"/>) or
    /// <see cref="TrainingClusterOptions.HolderEvacuationTimeout"/> passes; false when it did not end.
    /// </summary>
    private async Task<bool> WithinEvacuationTimeout(Func<CancellationToken, Task> part, CancellationToken stopping)
    {
        using var deadline = new CancellationTokenSource(options.Value.HolderEvacuationTimeout, time);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, stopping);
        try
        {
            await part(stop.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>This silo's parcel grain, activated while the silo still takes activations: every parcel left here is served from it.</summary>
    private async Task ActivateParcels(CancellationToken stopping)
    {
        try
        {
            await grains.GetGrain<IMigrationParcelGrain>(localSilo.SiloAddress.ToParsableString()).Drop(Guid.Empty).WaitAsync(stopping);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogParcelsNotActivated(logger, e.Message);
        }
    }

    private async Task<bool> Leave(string key, CancellationToken stop)
    {
        try
        {
            return await grains.GetGrain<ICheckpointShardGrain>(key).LeaveShuttingDownSilo(localSilo.SiloAddress.ToParsableString()).WaitAsync(stop);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogNotMoved(logger, key, e.Message);
            return false;
        }
    }
}
