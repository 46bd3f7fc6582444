using System.Collections.Concurrent;
using Orleans.Storage;

namespace Cluster.Grains.Tests;

/// <summary>Grain storage in a dictionary, with real serialization and ETag checks: records' sizes are what would be stored.</summary>
public sealed class InMemoryGrainStorage(IGrainStorageSerializer serializer) : IGrainStorage
{
    private readonly ConcurrentDictionary<(string State, GrainId Grain), (byte[] Content, string ETag)> _records = new();

    /// <summary>Bytes of the stored record, or -1.</summary>
    public long SizeOf(string stateName, GrainId grainId) => _records.TryGetValue((stateName, grainId), out var r) ? r.Content.Length : -1;

    public int Count => _records.Count;

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (_records.TryGetValue((stateName, grainId), out var record))
        {
            grainState.State = serializer.Deserialize<T>(new BinaryData(record.Content));
            (grainState.ETag, grainState.RecordExists) = (record.ETag, true);
        }
        else
        {
            (grainState.ETag, grainState.RecordExists) = (null, false);
        }
        return Task.CompletedTask;
    }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var key = (stateName, grainId);
        string? current = _records.TryGetValue(key, out var record) ? record.ETag : null;
        if (current != grainState.ETag)
            throw new InconsistentStateException($"{grainId} {stateName}: ETag {grainState.ETag}, stored {current}", current, grainState.ETag, null);
        string etag = Guid.NewGuid().ToString("N");
        _records[key] = (serializer.Serialize(grainState.State).ToArray(), etag);
        (grainState.ETag, grainState.RecordExists) = (etag, true);
        return Task.CompletedTask;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        _records.TryRemove((stateName, grainId), out _);
        (grainState.ETag, grainState.RecordExists) = (null, false);
        return Task.CompletedTask;
    }
}
