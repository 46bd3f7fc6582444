using Cluster.Grains.Storage;
using Orleans.Storage;

namespace Cluster.Grains.Tests;

public sealed class FileSystemGrainStorageTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "cluster-tests", "grain-storage-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            // nothing was written
        }
    }

    [Fact]
    public async Task Of_two_instances_writing_over_the_same_version_exactly_one_succeeds()
    {
        // Two storage instances over one folder (like two silo processes on a shared volume). Their serializer meets at
        // a barrier, i.e. right after the ETag check: with a compare-then-rename check both writers get there and both
        // "succeed"; with the check and the write under one lock the second only starts once the first has written.
        using var meet = new Barrier(2);
        var serializer = new MeetingSerializer(meet);
        var first = new FileSystemGrainStorage("jobs", _root, serializer);
        var second = new FileSystemGrainStorage("jobs", _root, serializer);
        var grain = GrainId.Create("test", "race");
        var initial = new GrainState<Counter>(new Counter(0));
        await first.WriteStateAsync("job", grain, initial);

        var a = new GrainState<Counter>(new Counter(1), initial.ETag);
        var b = new GrainState<Counter>(new Counter(2), initial.ETag);
        var results = await Task.WhenAll(Try(() => first.WriteStateAsync("job", grain, a)), Try(() => second.WriteStateAsync("job", grain, b)));

        Assert.Equal(1, results.Count(r => r is null));
        Assert.IsType<InconsistentStateException>(Assert.Single(results, r => r is not null));
        var stored = new GrainState<Counter>(new Counter(-1));
        await first.ReadStateAsync("job", grain, stored);
        Assert.Contains(stored.State!.Value, new[] { 1, 2 });
        Assert.Equal(results[0] is null ? a.ETag : b.ETag, stored.ETag);
    }

    private static Task<Exception?> Try(Func<Task> write) => Task.Run(async () =>
    {
        try
        {
            await write();
            return (Exception?)null;
        }
        catch (Exception e)
        {
            return e;
        }
    });

    public sealed record Counter(int Value);

    /// <summary>JSON, with a meeting point in every serialization after the first: waits (bounded) for the other writer.</summary>
    private sealed class MeetingSerializer(Barrier meet) : IGrainStorageSerializer
    {
        private int _calls;

        public BinaryData Serialize<T>(T? input)
        {
            if (Interlocked.Increment(ref _calls) > 1) meet.SignalAndWait(TimeSpan.FromSeconds(2));
            return BinaryData.FromObjectAsJson(input);
        }

        public T Deserialize<T>(BinaryData input) => input.ToObjectFromJson<T>()!;
    }
}
