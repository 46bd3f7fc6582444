using Cluster.Grains.Compute;
using Cluster.Grains.Hosting;
using Cluster.Grains.Nodes;
using TorchSharp;

namespace Cluster.Grains.Tests;

/// <summary>The device worker publishes its operation in flight; past max(k × p99 step, floor) it counts as hung.</summary>
public sealed class DeviceHangTests
{
    private static readonly DateTimeOffset s_start = new(2026, 12, 2, 6, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task The_operation_in_flight_is_published_with_its_start_time_and_cleared_when_it_finishes()
    {
        var time = new ManualTimeProvider(s_start);
        using var hang = new ComputeHang();
        using var worker = new DeviceWorker("test/cpu0", torch.CPU, threads: 1, memoryBytes: 1 << 20, stepTimeWindow: 4, time, hang);
        Assert.Null(worker.InFlightSince);
        Assert.Null(worker.LastFinishedAt);

        hang.Set(worker.NodeId);
        var stuck = worker.Run(() => 42);
        await Eventually.True(() => Task.FromResult(worker.InFlightSince is not null), TimeSpan.FromSeconds(30), "the operation to start");
        Assert.Equal(s_start, worker.InFlightSince);
        time.Advance(TimeSpan.FromSeconds(7));
        Assert.Equal(TimeSpan.FromSeconds(7), worker.InFlightAge(time.GetUtcNow()));
        Assert.False(stuck.IsCompleted);

        hang.Clear(worker.NodeId);
        Assert.Equal(42, (await stuck).Value);
        await Eventually.True(() => Task.FromResult(worker.InFlightSince is null), TimeSpan.FromSeconds(30), "the operation to finish");
        Assert.Equal(s_start + TimeSpan.FromSeconds(7), worker.LastFinishedAt);
        Assert.Equal(1, worker.CompletedOperations);
        Assert.Equal(TimeSpan.Zero, worker.InFlightAge(time.GetUtcNow()));
    }

    [Fact]
    public async Task An_operation_counts_as_hung_past_the_larger_of_k_times_p99_and_the_floor()
    {
        Assert.Equal(TimeSpan.FromSeconds(30), DeviceHangCheck.Limit(stepTimeP99Ms: 0, factor: 10, floor: TimeSpan.FromSeconds(30)));
        Assert.Equal(TimeSpan.FromSeconds(30), DeviceHangCheck.Limit(stepTimeP99Ms: 2_000, factor: 10, floor: TimeSpan.FromSeconds(30)));
        Assert.Equal(TimeSpan.FromSeconds(50), DeviceHangCheck.Limit(stepTimeP99Ms: 5_000, factor: 10, floor: TimeSpan.FromSeconds(30)));

        var time = new ManualTimeProvider(s_start);
        using var hang = new ComputeHang();
        using var worker = new DeviceWorker("test/cpu0", torch.CPU, threads: 1, memoryBytes: 1 << 20, stepTimeWindow: 4, time, hang);
        worker.RecordStep(400); // p99 400 ms: 10 × p99 = 4 s, under the 5 s floor
        Assert.Null(DeviceHangCheck.HungReason(worker, time.GetUtcNow(), 10, TimeSpan.FromSeconds(5))); // idle

        hang.Set(worker.NodeId);
        var stuck = worker.Run(() => 0);
        try
        {
            await Eventually.True(() => Task.FromResult(worker.InFlightSince is not null), TimeSpan.FromSeconds(30), "the operation to start");
            time.Advance(TimeSpan.FromSeconds(5));
            Assert.Null(DeviceHangCheck.HungReason(worker, time.GetUtcNow(), 10, TimeSpan.FromSeconds(5))); // at the limit, not past it
            time.Advance(TimeSpan.FromMilliseconds(1));
            string? reason = DeviceHangCheck.HungReason(worker, time.GetUtcNow(), 10, TimeSpan.FromSeconds(5));
            Assert.NotNull(reason);
            Assert.Contains("device hung", reason, StringComparison.Ordinal);
            Assert.Contains("5.0 s", reason, StringComparison.Ordinal);
            worker.RecordStep(1_000); // a slower device: 10 × p99 = 10 s, so 5 s in flight is no longer a hang
            Assert.Null(DeviceHangCheck.HungReason(worker, time.GetUtcNow(), 10, TimeSpan.FromSeconds(5)));
        }
        finally
        {
            hang.Clear(worker.NodeId);
        }
        await stuck;
    }

    [Fact]
    public void Hang_options_are_validated_naming_the_fix()
    {
        var problems = new TrainingClusterOptions { DeviceHangStepFactor = 0.5, DeviceHangFloor = TimeSpan.FromMilliseconds(100) }.Validate();
        Assert.Contains(problems, p => p.StartsWith("DeviceHangStepFactor = 0.5", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("DeviceHangFloor = 00:00:00.1000000 must exceed HeartbeatPeriod", StringComparison.Ordinal));
        Assert.Empty(new TrainingClusterOptions().Validate());
    }
}
