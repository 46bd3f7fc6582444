using Cluster.Grains.Compute;
using Cluster.Grains.Nodes;
using TorchSharp;

namespace Cluster.Grains.Tests;

public sealed class NodeHealthTests
{
    [Fact]
    public void Errors_are_remembered_for_the_flaky_device_budget_across_good_steps_until_they_are_older_than_the_window()
    {
        var time = new ManualTimeProvider(new DateTimeOffset(2026, 12, 4, 17, 0, 0, TimeSpan.Zero));
        using var worker = new DeviceWorker("test/cpu0", torch.CPU, threads: 1, memoryBytes: 1 << 20, stepTimeWindow: 4, time);
        var window = TimeSpan.FromMinutes(10);
        for (int i = 0; i < 3; i++)
        {
            worker.RecordDeviceError($"error {i}");
            worker.RecordError($"a step failed {i}"); // not the device's own: not in the budget
            worker.RecordStep(10); // a good step between: the run of failures ends, the budget's count does not
            time.Advance(TimeSpan.FromMinutes(4));
        }
        Assert.Equal(0, worker.ConsecutiveErrors);
        // Now 12 min after the first: it is out of the window, the other two are in.
        Assert.Equal(2, worker.DeviceErrorsSince(time.GetUtcNow() - window));
        time.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(0, worker.DeviceErrorsSince(time.GetUtcNow() - window));
        Assert.Equal(6, worker.ErrorCount);

        var problems = new Cluster.Grains.Hosting.TrainingClusterOptions { DeviceErrorBudget = -1, DeviceErrorWindow = TimeSpan.Zero }.Validate();
        Assert.Contains(problems, p => p.StartsWith("DeviceErrorBudget = -1", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("DeviceErrorWindow = 00:00:00", StringComparison.Ordinal));
    }

    [Fact]
    public void Consecutive_step_errors_count_until_a_good_step_and_percentiles_follow_the_window()
    {
        using var worker = new DeviceWorker("test/cpu0", torch.CPU, threads: 1, memoryBytes: 1 << 20, stepTimeWindow: 4);
        worker.RecordError("first");
        worker.RecordError("second");
        Assert.Equal(2, worker.ConsecutiveErrors);
        Assert.Equal("second", worker.LastError);
        worker.RecordStep(10);
        Assert.Equal(0, worker.ConsecutiveErrors);
        Assert.Equal(2, worker.ErrorCount); // the total stays for the heartbeat
        foreach (double ms in new[] { 20.0, 30, 40, 1000 }) worker.RecordStep(ms); // the 10 ms step falls out of the window
        var (p50, p99) = worker.StepTimes();
        Assert.Equal(30, p50);
        Assert.Equal(1000, p99);
    }

    [Fact]
    public async Task Work_runs_on_the_device_thread_in_order_and_reports_its_timing()
    {
        using var worker = new DeviceWorker("test/cpu0", torch.CPU, threads: 1, memoryBytes: 1 << 20, stepTimeWindow: 4);
        var order = new List<int>();
        int callerThread = Environment.CurrentManagedThreadId;
        var tasks = Enumerable.Range(0, 5).Select(i => worker.Run(() => { order.Add(i); return Environment.CurrentManagedThreadId; })).ToArray();
        var results = await Task.WhenAll(tasks);
        Assert.Equal([0, 1, 2, 3, 4], order);
        Assert.Single(results.Select(r => r.Value).Distinct());
        Assert.NotEqual(callerThread, results[0].Value);
        Assert.All(results, r => Assert.True(r.Ran >= TimeSpan.Zero && r.Queued >= TimeSpan.Zero));
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => worker.Run<int>(() => throw new InvalidOperationException("device error")));
        Assert.Equal("device error", failure.Message);
    }

    [Fact]
    public async Task Device_utilization_is_the_share_of_time_between_heartbeats_the_device_ran_operations_a_hung_one_included()
    {
        var time = new ManualTimeProvider(new DateTimeOffset(2026, 12, 4, 20, 0, 0, TimeSpan.Zero));
        using var worker = new DeviceWorker("test/cpu0", torch.CPU, threads: 1, memoryBytes: 1 << 20, stepTimeWindow: 4, time);
        var utilization = new DeviceUtilization();
        Assert.Null(utilization.Sample(worker.BusyTime(time.GetUtcNow()), time.GetUtcNow())); // the first heartbeat: no interval yet, unknown

        // 3 s of operations in a 4 s interval (the clock moves inside them as a device's work takes time).
        await worker.Run(() => time.Advance(TimeSpan.FromSeconds(2)));
        time.Advance(TimeSpan.FromSeconds(1)); // waiting for work
        await worker.Run(() => time.Advance(TimeSpan.FromSeconds(1)));
        Assert.Equal(TimeSpan.FromSeconds(3), worker.BusyTime(time.GetUtcNow()));
        Assert.Equal(0.75, utilization.Sample(worker.BusyTime(time.GetUtcNow()), time.GetUtcNow())!.Value, 6);

        // Idle for the next interval.
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(0, utilization.Sample(worker.BusyTime(time.GetUtcNow()), time.GetUtcNow()));

        // An operation still in flight counts up to now: a hung device is busy, not idle.
        using var release = new ManualResetEventSlim();
        using var started = new ManualResetEventSlim();
        var hung = worker.Run(() => { started.Set(); release.Wait(); return true; });
        Assert.True(started.Wait(TimeSpan.FromSeconds(30)), "the operation never started");
        time.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(1, utilization.Sample(worker.BusyTime(time.GetUtcNow()), time.GetUtcNow()));
        Assert.Equal(1, utilization.Last);
        release.Set();
        await hung;
        Assert.Equal(TimeSpan.FromSeconds(7), worker.BusyTime(time.GetUtcNow()));
    }
}
