using Cluster.Grains.Compute;
using TorchSharp;

namespace Cluster.Grains.Tests;

public sealed class DeviceWorkQueueTests
{
    [Fact]
    public void Items_are_taken_in_order_and_the_ones_queued_before_close_are_still_taken()
    {
        var queue = new DeviceWorkQueue<Action>();
        var taken = new List<int>();
        for (int i = 0; i < 3; i++)
        {
            int n = i;
            Assert.True(queue.TryAdd(() => taken.Add(n)));
        }
        queue.Close();
        Assert.False(queue.TryAdd(() => taken.Add(99)));
        Assert.Equal(3, queue.Count);
        while (queue.Take() is { } item) item();
        Assert.Equal([0, 1, 2], taken);
        Assert.Null(queue.Take());
    }

    [Fact]
    public async Task A_waiting_consumer_wakes_for_an_item_and_for_the_close()
    {
        var queue = new DeviceWorkQueue<Action>();
        var first = Task.Factory.StartNew(queue.Take, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        Assert.True(queue.TryAdd(() => { }));
        Assert.NotNull(await first.WaitAsync(TimeSpan.FromSeconds(30)));
        var second = Task.Factory.StartNew(queue.Take, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        queue.Close();
        Assert.Null(await second.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task Every_item_of_racing_producers_is_either_taken_once_in_its_producer_s_order_or_refused()
    {
        // Producers race each other and the close; the invariant: what was accepted is run exactly once, in each
        // producer's order, and what was refused never runs.
        for (int round = 0; round < 20; round++)
        {
            var queue = new DeviceWorkQueue<Action>();
            const int Producers = 4;
            var accepted = new List<(int Producer, int Item)>[Producers];
            var ran = new List<(int Producer, int Item)>();
            var consumer = Task.Factory.StartNew(() =>
            {
                while (queue.Take() is { } item) item();
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            var producers = Enumerable.Range(0, Producers).Select(p => Task.Run(() =>
            {
                accepted[p] = [];
                for (int i = 0; i < 500; i++)
                {
                    int item = i;
                    if (queue.TryAdd(() => ran.Add((p, item)))) accepted[p].Add((p, item));
                }
            })).ToArray();
            await Task.Delay(round % 5);
            queue.Close();
            await Task.WhenAll(producers).WaitAsync(TimeSpan.FromSeconds(60));
            await consumer.WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(accepted.Sum(a => a.Count), ran.Count);
            for (int p = 0; p < Producers; p++)
                Assert.Equal(accepted[p], ran.Where(r => r.Producer == p));
        }
    }

    [Fact]
    public async Task A_finished_operation_is_no_longer_in_flight_by_the_time_its_caller_sees_the_result()
    {
        // The hang check and the health probes read InFlightSince: a caller that saw its operation finish must not see
        // the device still busy with it (seen once in CI, when the result was published before the bookkeeping).
        using var worker = new DeviceWorker("test/cpu0", torch.CPU, threads: 1, memoryBytes: 1 << 20, stepTimeWindow: 4);
        for (int i = 0; i < 20_000; i++)
        {
            await worker.Run(() => i);
            Assert.True(worker.InFlightSince is null, $"operation {i} finished, but the worker still counts it in flight since {worker.InFlightSince:O}");
        }
    }

    [Fact]
    public async Task Work_given_to_a_disposed_worker_fails_instead_of_waiting_forever()
    {
        var worker = new DeviceWorker("test/cpu0", torch.CPU, threads: 1, memoryBytes: 1 << 20, stepTimeWindow: 4);
        Assert.Equal(1, (await worker.Run(() => 1)).Value);
        worker.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => worker.Run(() => 2).WaitAsync(TimeSpan.FromSeconds(30)));
    }
}
