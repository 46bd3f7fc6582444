using Cluster.Grains.Hosting;
using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Jobs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Storage;

namespace Cluster.Grains.Events;

/// <summary>
/// A job's recorded history, or the cluster's node events (key <see cref="EventLogKeys.Cluster"/>); see
/// <see cref="IJobEventLogGrain"/>. Invariants:
/// <list type="bullet">
/// <item>Events are numbered in the order their <see cref="Append"/> calls arrive (a publisher awaits each call, so its
/// own events keep their order); the call returns once the event is in memory — storage is written in the background,
/// so a publisher never waits on it, not even through a storage outage (writes are retried with back-off).</item>
/// <item>Bounded: the kept window is a function of the count alone — events after the last whole chunk plus at most
/// <see cref="MaxChunks"/> whole chunks of <see cref="ChunkSize"/> — in memory and in storage alike.</item>
/// <item>Stored as a head record (the numbers, and the events after the last sealed chunk) plus sealed chunk records
/// of <see cref="ChunkSize"/> events, each written once, so a write costs O(<see cref="ChunkSize"/>) whatever the
/// history's length; a chunk is written before the head that counts it, and dropped chunks are deleted after it.</item>
/// </list>
/// </summary>
internal sealed partial class JobEventLogGrain(TimeProvider time, ILogger<JobEventLogGrain> logger) : Grain, IJobEventLogGrain
{
    /// <summary>Events per sealed chunk record.</summary>
    public const int ChunkSize = 64;

    /// <summary>Sealed chunks kept; older ones are dropped.</summary>
    public const int MaxChunks = 15;

    /// <summary>The most events one page returns.</summary>
    public const int MaxPage = 1000;

    private const string HeadStateName = "events";
    private const string ChunkStateName = "eventchunk";

    private IGrainStorage _storage = null!;
    private readonly GrainState<JobEventLogState> _head = new(new JobEventLogState());
    private readonly List<JobEventRecord> _kept = []; // the kept window, oldest first
    private long _next = 1;
    private int _durableSealed; // chunks 0 … _durableSealed-1 are written (or were dropped before they had to be)
    private int _durableFirst; // chunks before this one are deleted from storage
    private bool _dirty;
    private long _generation; // bumped by Clear: a writer of the history before it stops
    private Task _writing = Task.CompletedTask;

    /// <summary>Whole chunks of events numbered so far.</summary>
    private int Sealed => (int)((_next - 1) / ChunkSize);

    /// <summary>The oldest chunk of the kept window.</summary>
    private int FirstChunk => Math.Max(0, Sealed - MaxChunks);

    private long FirstKept => (long)FirstChunk * ChunkSize + 1;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _storage = ServiceProvider.GetRequiredKeyedService<IGrainStorage>(StorageNames.Jobs);
        await _storage.ReadStateAsync(HeadStateName, this.GetGrainId(), _head);
        var head = _head.State ??= new JobEventLogState();
        (_next, _durableSealed, _durableFirst) = (head.Next, head.SealedChunks, head.FirstChunk);
        for (int i = head.FirstChunk; i < head.SealedChunks; i++)
        {
            var chunk = await ReadChunk(i);
            if (chunk.RecordExists && chunk.State is not null) _kept.AddRange(chunk.State.Events); // a chunk lost to storage is a gap, not a failure
        }
        _kept.AddRange(head.Tail);
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        try
        {
            await _writing.WaitAsync(cancellationToken); // best effort: the last writes (the writer never throws)
        }
        catch (OperationCanceledException)
        {
            // deactivation is not held up for long: what was not written is lost with this activation
        }
    }

    public Task Append(ClusterEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        _kept.Add(new JobEventRecord(_next++, e));
        long firstKept = FirstKept;
        if (_kept[0].Seq < firstKept) _kept.RemoveAll(r => r.Seq < firstKept);
        _dirty = true;
        if (_writing.IsCompleted) _writing = WriteWhileDirty();
        return Task.CompletedTask;
    }

    public Task<JobEventPage> GetPage(JobEventQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Limit is < 1 or > MaxPage)
            throw new ArgumentOutOfRangeException(nameof(query), query.Limit, $"A page holds 1 to {MaxPage} events: give a limit in that range.");
        var selected = query.NodeId is { } node ? _kept.Where(r => r.Event.NodeId == node).ToList() : _kept;
        var matching = selected.Where(r => (query.After is not { } after || r.Seq > after) && (query.Before is not { } before || r.Seq < before)).ToList();
        List<JobEventRecord> page = query.After is not null ? [.. matching.Take(query.Limit)] : [.. matching.Skip(Math.Max(0, matching.Count - query.Limit))];
        bool moreBefore = page.Count > 0 ? selected[0].Seq < page[0].Seq : query.After is { } a && selected.Any(r => r.Seq <= a);
        bool moreAfter = page.Count > 0 ? selected[^1].Seq > page[^1].Seq : query.Before is { } b && selected.Any(r => r.Seq >= b);
        return Task.FromResult(new JobEventPage(page, FirstKept, _next - 1, FirstKept - 1, moreBefore, moreAfter));
    }

    public async Task Clear()
    {
        _generation++;
        await _writing;
        for (int i = _durableFirst; i < _durableSealed; i++) await ClearChunk(i);
        await _storage.ClearStateAsync(HeadStateName, this.GetGrainId(), _head);
        _head.State = new JobEventLogState();
        _kept.Clear();
        (_next, _durableSealed, _durableFirst) = (1, 0, 0);
        _dirty = false;
    }

    /// <summary>The one writer: runs while appends wait to be stored, retrying failures with back-off.</summary>
    private async Task WriteWhileDirty()
    {
        int failures = 0;
        long generation = _generation;
        while (_dirty && generation == _generation)
        {
            _dirty = false;
            try
            {
                await WriteOnce();
                if (failures > 0) LogWriteRecovered(logger, this.GetPrimaryKeyString(), failures);
                failures = 0;
            }
            catch (Exception e)
            {
                _dirty = true;
                LogWriteFailed(logger, e, this.GetPrimaryKeyString(), ++failures);
                await Task.Delay(Backoff.Delay(failures, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(30)), time);
            }
        }
    }

    private async Task WriteOnce()
    {
        int sealedNow = Sealed, firstNow = FirstChunk;
        for (int i = Math.Max(_durableSealed, firstNow); i < sealedNow; i++)
        {
            long from = (long)i * ChunkSize + 1;
            var chunk = await ReadChunk(i); // a purged history may have left a record of that number behind
            chunk.State = new JobEventChunk { Events = [.. _kept.Where(r => r.Seq >= from && r.Seq < from + ChunkSize)] };
            await _storage.WriteStateAsync(ChunkStateName, ChunkId(i), chunk);
            _durableSealed = i + 1;
        }
        _durableSealed = Math.Max(_durableSealed, sealedNow);
        long tailFrom = (long)sealedNow * ChunkSize + 1;
        _head.State = new JobEventLogState { Next = _next, FirstChunk = firstNow, SealedChunks = sealedNow, Tail = [.. _kept.Where(r => r.Seq >= tailFrom && r.Seq < _next)] };
        await _storage.WriteStateAsync(HeadStateName, this.GetGrainId(), _head);
        for (; _durableFirst < firstNow; _durableFirst++) await ClearChunk(_durableFirst);
    }

    private async Task<GrainState<JobEventChunk>> ReadChunk(int index)
    {
        var chunk = new GrainState<JobEventChunk>(new JobEventChunk());
        await _storage.ReadStateAsync(ChunkStateName, ChunkId(index), chunk);
        return chunk;
    }

    private async Task ClearChunk(int index)
    {
        var chunk = await ReadChunk(index);
        if (chunk.RecordExists) await _storage.ClearStateAsync(ChunkStateName, ChunkId(index), chunk);
    }

    private GrainId ChunkId(int index) => GrainId.Create("jobevents", $"{this.GetPrimaryKeyString()}/{index}");
}
