using Cluster.Grains.Hosting;
using Cluster.Grains.Interfaces.Events;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;

namespace Cluster.Grains.Events;

/// <summary>
/// A job's recorded history; see <see cref="IJobEventLogGrain"/>. Stored in the jobs' grain storage as a head record
/// (the newest events, fewer than <see cref="ChunkSize"/>) plus sealed chunks of <see cref="ChunkSize"/> events, each
/// written once — so an append writes O(<see cref="ChunkSize"/>) bytes whatever the history's length — and at most
/// <see cref="MaxChunks"/> sealed chunks are kept: the log never holds more than
/// (<see cref="MaxChunks"/> + 1) × <see cref="ChunkSize"/> events. The kept events are also held in memory for paging.
/// </summary>
internal sealed class JobEventLogGrain : Grain, IJobEventLogGrain
{
    /// <summary>Events per sealed chunk record.</summary>
    public const int ChunkSize = 64;

    /// <summary>Sealed chunks kept; older ones are deleted.</summary>
    public const int MaxChunks = 15;

    /// <summary>The most events one page returns.</summary>
    public const int MaxPage = 1000;

    private const string HeadStateName = "events";
    private const string ChunkStateName = "eventchunk";

    private IGrainStorage _storage = null!;
    private readonly GrainState<JobEventLogState> _head = new(new JobEventLogState());
    private readonly List<JobEventRecord> _kept = [];

    private JobEventLogState Head => _head.State ??= new JobEventLogState();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _storage = ServiceProvider.GetRequiredKeyedService<IGrainStorage>(StorageNames.Jobs);
        await _storage.ReadStateAsync(HeadStateName, this.GetGrainId(), _head);
        _head.State ??= new JobEventLogState();
        for (int i = Head.FirstChunk; i < Head.SealedChunks; i++)
        {
            var chunk = await ReadChunk(i);
            if (chunk.RecordExists && chunk.State is not null) _kept.AddRange(chunk.State.Events); // a chunk lost to storage is a gap, not a failure
        }
        _kept.AddRange(Head.Tail);
    }

    public async Task Append(ClusterEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var record = new JobEventRecord(Head.Next++, e);
        Head.Tail.Add(record);
        _kept.Add(record);
        while (Head.Tail.Count >= ChunkSize)
        {
            var chunk = await ReadChunk(Head.SealedChunks); // a purged history may have left its ETag behind
            chunk.State = new JobEventChunk { Events = Head.Tail.GetRange(0, ChunkSize) };
            await _storage.WriteStateAsync(ChunkStateName, ChunkId(Head.SealedChunks), chunk);
            Head.Tail.RemoveRange(0, ChunkSize);
            Head.SealedChunks++;
        }
        var dropped = new List<int>();
        while (Head.SealedChunks - Head.FirstChunk > MaxChunks) dropped.Add(Head.FirstChunk++);
        await _storage.WriteStateAsync(HeadStateName, this.GetGrainId(), _head);
        if (dropped.Count > 0)
        {
            long firstKept = (long)Head.FirstChunk * ChunkSize + 1;
            _kept.RemoveAll(r => r.Seq < firstKept);
            foreach (int index in dropped) await ClearChunk(index);
        }
    }

    public Task<JobEventPage> GetPage(JobEventQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Limit is < 1 or > MaxPage)
            throw new ArgumentOutOfRangeException(nameof(query), query.Limit, $"A page holds 1 to {MaxPage} events: give a limit in that range.");
        var matching = _kept.Where(r => (query.After is not { } after || r.Seq > after) && (query.Before is not { } before || r.Seq < before)).ToList();
        List<JobEventRecord> page = query.After is not null ? matching.Take(query.Limit).ToList() : matching.Skip(Math.Max(0, matching.Count - query.Limit)).ToList();
        bool moreBefore = page.Count > 0 ? _kept.Count > 0 && _kept[0].Seq < page[0].Seq : query.After is { } a && _kept.Any(r => r.Seq <= a);
        bool moreAfter = page.Count > 0 ? _kept.Count > 0 && _kept[^1].Seq > page[^1].Seq : query.Before is { } b && _kept.Any(r => r.Seq >= b);
        long firstKept = (long)Head.FirstChunk * ChunkSize + 1;
        return Task.FromResult(new JobEventPage(page, firstKept, Head.Next - 1, firstKept - 1, moreBefore, moreAfter));
    }

    public async Task Clear()
    {
        for (int i = Head.FirstChunk; i < Head.SealedChunks; i++) await ClearChunk(i);
        await _storage.ClearStateAsync(HeadStateName, this.GetGrainId(), _head);
        _head.State = new JobEventLogState();
        _kept.Clear();
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
