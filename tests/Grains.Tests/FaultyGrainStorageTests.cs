using Cluster.Grains.Storage;
using Orleans.Storage;

namespace Cluster.Grains.Tests;

/// <summary>The storage fault wrapper behaves as a remote store would: a write goes out with the ETag it was issued with.</summary>
public sealed class FaultyGrainStorageTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "faulty-grain-storage-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task Of_two_overlapping_writes_of_one_state_the_one_that_lands_second_is_refused()
    {
        using var writers = new JobStateWriters();
        var serializer = writers.NewSerializer();
        var storage = new FaultyGrainStorage(new FileSystemGrainStorage("jobs", _root, serializer), serializer);
        const string key = "faulty-storage-overlap";
        var grain = GrainId.Create("scheduler", key);
        var marks = new Dictionary<string, int>();
        var state = new GrainState<Dictionary<string, int>>(marks);

        StorageFaults.GrainState.Inject(key, FaultyGrainStorage.Write, FaultMode.Hang, times: 1);
        Task first, second;
        try
        {
            marks["a"] = 1;
            first = storage.WriteStateAsync("scheduler", grain, state);
            marks["b"] = 2;
            second = storage.WriteStateAsync("scheduler", grain, state);
            await second;
        }
        finally
        {
            StorageFaults.GrainState.Heal(key);
        }
        await Assert.ThrowsAsync<InconsistentStateException>(() => first);

        var read = new GrainState<Dictionary<string, int>>([]);
        await storage.ReadStateAsync("scheduler", grain, read);
        Assert.Equal(new Dictionary<string, int> { ["a"] = 1, ["b"] = 2 }, read.State);
        Assert.Equal(read.ETag, state.ETag);
    }

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }
}
