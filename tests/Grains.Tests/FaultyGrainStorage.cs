using Cluster.Grains.Hosting;
using Cluster.Grains.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Serialization;
using Orleans.Storage;

namespace Cluster.Grains.Tests;

/// <summary>
/// Grain storage over a real one, with faults from <see cref="StorageFaults.GrainState"/> keyed by the grain's key (a job
/// id) and call kind "ReadState", "WriteState" or "ClearState". Shared by every silo of the in-process cluster.
/// A write carries its state and ETag as they were when it was issued, as a request to a remote store (blob, table)
/// does: a write that hangs lands later with what it was sent, not with what the grain holds by then, and is refused if
/// the record changed meanwhile. (The file store reads the ETag from the caller's state object when it runs, so two
/// overlapping writes of one activation would both pass there.)
/// </summary>
public sealed class FaultyGrainStorage(IGrainStorage inner, IGrainStorageSerializer serializer) : IGrainStorage
{
    public const string Read = "ReadState";
    public const string Write = "WriteState";
    public const string Clear = "ClearState";

    private static StorageFaults Faults => StorageFaults.GrainState;

    /// <summary>
    /// Makes the job-state storage of <paramref name="silo"/> a fault-injecting wrapper over the real file-system one;
    /// call it after the training cluster registered its own "jobs" storage (the last keyed registration is the one resolved).
    /// </summary>
    public static ISiloBuilder ForJobState(ISiloBuilder silo)
    {
        ArgumentNullException.ThrowIfNull(silo);
        silo.Services.AddKeyedSingleton<IGrainStorage>(StorageNames.Jobs, (sp, _) =>
        {
            var serializer = new OrleansGrainStorageSerializer(sp.GetRequiredService<Serializer>());
            return new FaultyGrainStorage(
                new FileSystemGrainStorage(StorageNames.Jobs, sp.GetRequiredService<IOptions<TrainingClusterOptions>>().Value.ResolvedStatePath, serializer),
                serializer);
        });
        return silo;
    }

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        Faults.Run(grainId.Key.ToString()!, Read, () => inner.ReadStateAsync(stateName, grainId, grainState));

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var sent = new GrainState<T>(serializer.Deserialize<T>(serializer.Serialize(grainState.State)), grainState.ETag);
        await Faults.Run(grainId.Key.ToString()!, Write, () => inner.WriteStateAsync(stateName, grainId, sent));
        (grainState.ETag, grainState.RecordExists) = (sent.ETag, sent.RecordExists);
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        Faults.Run(grainId.Key.ToString()!, Clear, () => inner.ClearStateAsync(stateName, grainId, grainState));
}
