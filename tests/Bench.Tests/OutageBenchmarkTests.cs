using Cluster.Bench.Outage;
using Cluster.Grains.Checkpoints;

namespace Cluster.Bench.Tests;

public sealed class OutageBenchmarkTests
{
    [Theory]
    [InlineData("--outage-seconds", "0", "--outage-seconds 0")]
    [InlineData("--steps", "20", "--steps 20")]
    [InlineData("--outage-secs", "5", "--outage-secs")]
    public async Task Bad_options_are_refused_before_a_cluster_starts(string option, string value, string named)
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => OutageBenchmark.RunAsync(BenchArguments.Parse([option, value])));
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_store_refuses_every_call_while_down_and_serves_the_real_store_otherwise()
    {
        string root = Path.Combine(Path.GetTempPath(), $"outage-store-{Guid.NewGuid():N}");
        try
        {
            var outage = new StoreOutage();
            var store = new OutageCheckpointStore(new FileSystemCheckpointStore(root), outage);
            Assert.Empty(await store.ListManifestsAsync("job"));

            outage.Begin();
            var listing = store.ListManifestsAsync("job"); // a faulted task, as from a client of an unreachable store
            await Assert.ThrowsAsync<IOException>(() => listing);
            await Assert.ThrowsAsync<IOException>(() => store.WriteShardAsync("job", 1, 10, "stage-0", new byte[] { 1, 2, 3 }));
            Assert.Equal(2, outage.Refused);
            Assert.False(Directory.Exists(Path.Combine(root, "job")) && Directory.EnumerateFileSystemEntries(Path.Combine(root, "job"), "*", SearchOption.AllDirectories).Any(),
                "a refused write reached the store");

            outage.End();
            await store.WriteShardAsync("job", 1, 10, "stage-0", new byte[] { 1, 2, 3 });
            Assert.Equal(new byte[] { 1, 2, 3 }, await store.ReadShardAsync("job", 1, 10, "stage-0"));
            Assert.Equal(2, outage.Refused);
        }
        finally
        {
            try { Directory.Delete(root, recursive: true); } catch (DirectoryNotFoundException) { }
        }
    }
}
