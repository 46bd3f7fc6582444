using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Placement;

namespace Cluster.Grains.Checkpoints;

/// <summary>A holder whose silo shuts down gracefully moves away with its copies first.</summary>
internal sealed partial class CheckpointShardGrain
{
    /// <summary>
    /// How long a leaving holder lets its durable writes in flight finish before it moves without them: a store that
    /// hangs (an outage) must not keep the in-memory copies on a silo that is about to take them along. A commit
    /// waiting on a write left behind fails and is retried by the job.
    /// </summary>
    private static readonly TimeSpan LeavingWriteWait = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Rule (6) of the redundancy invariant (see the class): a graceful leave is no failure, so it must not take a copy
    /// with it. Orleans deactivates a leaving silo's grains without moving them, and a holder's copies went with it: from
    /// then until the stage's next snapshot re-created the holder elsewhere, the stage's own copy was the only one, and
    /// a loss of the stage's silo in that window — a step, or a coordinator's whole hand-over when it left with the same
    /// silo — restored the durable checkpoint. So the silo's shutdown asks its holders to move first
    /// (<c>SnapshotHolderEvacuationOnShutdown</c>, while the silo is still Active and can serve the parcel): this one
    /// migrates, avoiding the leaving silo by hint (the placement director keeps it away from its stage and lower-index
    /// holders as always), and its copies wait as a parcel here until the new activation has taken them. It stays when it
    /// keeps nothing, when no other Active silo holds no copy of the same state (the whole cluster stopping, or two silos:
    /// its stage's silo is no better a place, and its check there would send it back here), or when it is not on
    /// <paramref name="siloAddress"/> (it moved after the leaving silo listed it).
    /// </summary>
    public Task<bool> LeaveShuttingDownSilo(string siloAddress)
    {
        // Asked for a holder listed on the leaving silo that moved since (the call followed it), or on a silo that is not
        // leaving (or no longer waits for the copies its holders leave): it stays.
        if (siloAddress != silo.SiloAddress.ToParsableString() || !local.CanDepart) return Task.FromResult(false);
        // Asked again while leaving (the silo's pass and the holder's own ask, LeaveIfSiloLeaving): one leave, one answer.
        if (LeavingOrLeft) return _leave!;
        return _leave = Leave();
    }

    /// <summary>This activation's leave has moved it off its silo (the leave answered true): it is on its way elsewhere.</summary>
    private bool LeftLeavingSilo => _leave is { IsCompletedSuccessfully: true, Result: true };

    /// <summary>A leave is under way or has moved the holder: asked again, it gives the same answer.</summary>
    private bool LeavingOrLeft => _leave is { IsCompleted: false } || LeftLeavingSilo;

    private async Task<bool> Leave()
    {
        if (_held.Count == 0) return false;
        // Only to a silo that holds no other copy of the same state (its stage's, a lower-index holder's). With none (a
        // two-silo cluster), moving it onto its stage's silo keeps no more copies apart than leaving it here — and there
        // its own check sends it straight back here, still Active in membership: back and forth, copies left in parcels.
        var occupied = await SnapshotHolderSites.OccupiedAsync(GrainFactory, this.GetPrimaryKeyString(), includeStages: true);
        if (!membership.CurrentSnapshot.Members.Values.Any(m => m.Status == SiloStatus.Active && m.SiloAddress != silo.SiloAddress && !occupied.Contains(m.SiloAddress)))
            return false;
        try
        {
            // A commit waiting on them finds their records after the move — unless the store hangs: then they are left behind.
            await Task.WhenAll(_writes.Values).WaitAsync(LeavingWriteWait, time);
        }
        catch (Exception e)
        {
            LogWriteFailedBeforeMove(logger, e, this.GetPrimaryKeyString());
        }
        if (_held.Count == 0) return false; // released meanwhile
        // Until its copies are a parcel here (OnDehydrate), the shutdown waits for it — unless it is past its last wait:
        // then the copies could not be taken, and it stays.
        if (!local.TryDepart(() => parcels.Departing(GrainContext.GrainId.ToString()))) return false;
        LogLeavingShuttingDownSilo(logger, this.GetPrimaryKeyString(), silo.Name, string.Join(", ", _held.Select(h => h.Record.Step)));
        RequestContext.Set(PlacementContextKeys.AvoidSilo, silo.Name); // the leaving silo: never back here while another is active
        if (await this.MigrateElsewhereOnIdle(parcels)) return true;
        LogStaysNoPlacement(logger, this.GetPrimaryKeyString(), silo.Name);
        return false;
    }

    /// <summary>
    /// Rule (6) for a holder that comes to a silo whose graceful stop has begun (<see cref="LocalSnapshotHolders.SiloLeaving"/>)
    /// — placed by a silo that could not know, or after the stop's last pass over the holders while the host's drain still
    /// runs: once it holds a copy, it asks itself to leave (<see cref="LeaveShuttingDownSilo"/>, a call of its own, so the
    /// turn that took the copy is not held up). A leave that found nowhere to go is tried again with the next copy.
    /// </summary>
    private void LeaveIfSiloLeaving()
    {
        if (!local.CanDepart || _held.Count == 0 || LeavingOrLeft) return;
        // A failure leaves it here, as before; the stop's own pass or the next copy asks again.
        this.AsReference<ICheckpointShardGrain>().LeaveShuttingDownSilo(silo.SiloAddress.ToParsableString()).Ignore();
    }

    /// <summary>
    /// Rule (6) for a holder whose new activation never came. A holder that migrated leaves its copies as a parcel on
    /// the silo it left (<see cref="MigratedSnapshots"/>) for its new activation to take; if that activation fails — it
    /// cannot register in the grain directory because the silo owning its range was just killed (seen in
    /// <c>KillDuringLeaveProcessTests</c>, seeds 201 and 203), or its take fails — the next call re-creates the holder
    /// empty, and the parcel waits where nobody will take it: a graceful leave, which is no failure, would then take a
    /// stage's only other copy with it. So a holder asked for its copies while it holds none first asks every live silo
    /// (its own too) for a parcel it left there with its records (1 s at most; again on every ask while it stays empty,
    /// see <see cref="AskSiblingsWhenEmpty"/>), and takes the newest one found, which also ends a leaving silo's wait for it.
    /// <para>
    /// Holder 0 is also heir to its stage's parcels (<see cref="MigrationParcels"/>' second invariant): a stage whose
    /// move failed — the silo it moved onto, which held this holder too, killed (seed 201 again) — left its own copies,
    /// the only ones then, in a parcel whose target is dead; the same search finds it, and the holder takes it over.
    /// A stage's parcel whose move may still complete is copied and left for the stage (<see cref="LeftParcel.StillAwaited"/>).
    /// </para>
    /// </summary>
    private async Task TakeParcelLeftBehind()
    {
        string grainId = GrainContext.GrainId.ToString();
        var silos = membership.CurrentSnapshot.Members.Values
            .Where(m => m.Status is SiloStatus.Active or SiloStatus.ShuttingDown or SiloStatus.Stopping)
            .Select(m => m.SiloAddress.ToParsableString()).ToArray();
        var answers = await Task.WhenAll(silos.Select(async address =>
        {
            try
            {
                return (Silo: address, Parcel: await GrainFactory.GetGrain<IMigrationParcelGrain>(address).FindLeftFor(grainId).WaitAsync(ParcelLookupLimit, time));
            }
            catch (Exception e) when (e is TimeoutException or OrleansException or SiloUnavailableException)
            {
                LogParcelLookupFailed(logger, e, this.GetPrimaryKeyString(), address);
                return (Silo: address, Parcel: null);
            }
        }));
        if (answers.Where(a => a.Parcel is not null).OrderByDescending(a => a.Parcel!.Records.Max(r => r.Step)).FirstOrDefault() is not (var from, { } left)) return;
        try
        {
            var units = await new MigratedSnapshots(from, left.Parcel, left.Headers).TakeAsync(GrainFactory, time, CancellationToken.None, drop: !left.StillAwaited);
            if (_held.Count > 0) return; // a copy came meanwhile: the newer timeline
            HoldTaken(left.Records, units);
            LogTookParcelLeftBehind(logger, this.GetPrimaryKeyString(), from, string.Join(", ", _held.Select(h => h.Record.Step)));
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException or OrleansException or SiloUnavailableException)
        {
            LogMigratedSnapshotsLost(logger, e, this.GetPrimaryKeyString(), from, string.Join(", ", left.Records.Select(r => r.Step)));
        }
    }

    /// <summary>Holds copies taken from a parcel (a move's, or one left behind): the two newest, oldest first, as <see cref="_held"/> keeps them.</summary>
    private void HoldTaken(IReadOnlyList<SnapshotRecord> records, UnitImage[][] units)
    {
        foreach (var (record, images) in records.Zip(units).OrderBy(p => p.First.Step).TakeLast(2))
            _held.Add((record, images));
    }

    /// <summary>
    /// How long a silo is given to say whether it keeps a parcel this holder left there: an answer from memory, so short —
    /// a frozen silo not yet declared dead delays an empty holder's answers by this much, well inside the 5 s a
    /// recovery gives each copy.
    /// </summary>
    private static readonly TimeSpan ParcelLookupLimit = TimeSpan.FromSeconds(1);
}
