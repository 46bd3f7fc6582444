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

    private static readonly DeviceHangBounds s_warmupBounds = new(Factor: 10, Floor: TimeSpan.FromSeconds(5), WarmupSteps: 2, WarmupLimit: TimeSpan.FromSeconds(60));

    [Fact]
    public async Task A_slow_operation_during_warm_up_is_not_a_hang_but_a_hang_during_warm_up_is_caught_at_the_warm_up_limit()
    {
        var time = new ManualTimeProvider(s_start);
        using var hang = new ComputeHang();
        using var worker = new DeviceWorker("test/cpu0", torch.CPU, threads: 1, memoryBytes: 1 << 20, stepTimeWindow: 4, time, hang);
        hang.Set(worker.NodeId); // a new worker's first operation (calibration, executor build): no step history yet
        var stuck = worker.Run(() => 0);
        try
        {
            await Eventually.True(() => Task.FromResult(worker.InFlightSince is not null), TimeSpan.FromSeconds(30), "the operation to start");
            time.Advance(TimeSpan.FromSeconds(20)); // four times the floor: slow, as warm-up on a loaded machine is
            Assert.Null(DeviceHangCheck.HungReason(worker, time.GetUtcNow(), s_warmupBounds));
            Assert.NotNull(DeviceHangCheck.HungReason(worker, time.GetUtcNow(), 10, TimeSpan.FromSeconds(5))); // without warm-up: flagged
            time.Advance(TimeSpan.FromSeconds(40)); // at the warm-up limit, not past it
            Assert.Null(DeviceHangCheck.HungReason(worker, time.GetUtcNow(), s_warmupBounds));
            time.Advance(TimeSpan.FromMilliseconds(1)); // past it: a device that hangs while warming up is still caught
            string? reason = DeviceHangCheck.HungReason(worker, time.GetUtcNow(), s_warmupBounds);
            Assert.NotNull(reason);
            Assert.Contains("over the limit 60.0 s", reason, StringComparison.Ordinal);
            Assert.Contains("warm-up limit 60.0 s: 0 of 2 steps", reason, StringComparison.Ordinal);
        }
        finally
        {
            hang.Clear(worker.NodeId);
        }
        await stuck;
    }

    [Fact]
    public async Task Warm_up_ends_after_its_steps_and_begins_again_when_a_stage_is_configured()
    {
        var time = new ManualTimeProvider(s_start);
        using var hang = new ComputeHang();
        using var worker = new DeviceWorker("test/cpu0", torch.CPU, threads: 1, memoryBytes: 1 << 20, stepTimeWindow: 4, time, hang);
        worker.RecordStep(100);
        Assert.Equal(1, worker.StepsSinceWarmup);
        worker.RecordStep(100); // two steps: warm-up over, the 5 s floor holds (10 × p99 = 1 s)

        hang.Set(worker.NodeId);
        var stuck = worker.Run(() => 0);
        try
        {
            await Eventually.True(() => Task.FromResult(worker.InFlightSince is not null), TimeSpan.FromSeconds(30), "the operation to start");
            time.Advance(TimeSpan.FromSeconds(6));
            string? reason = DeviceHangCheck.HungReason(worker, time.GetUtcNow(), s_warmupBounds);
            Assert.NotNull(reason);
            Assert.Contains("floor 5.0 s", reason, StringComparison.Ordinal);

            worker.BeginWarmup(); // a stage configured on the device: its new executor warms up
            Assert.Equal(0, worker.StepsSinceWarmup);
            Assert.Null(DeviceHangCheck.HungReason(worker, time.GetUtcNow(), s_warmupBounds));
            time.Advance(TimeSpan.FromSeconds(55));
            Assert.NotNull(DeviceHangCheck.HungReason(worker, time.GetUtcNow(), s_warmupBounds));
            Assert.Contains("floor 5.0 s", DeviceHangCheck.HungReason(worker, time.GetUtcNow(), s_warmupBounds with { WarmupSteps = 0 }) ?? "",
                StringComparison.Ordinal); // no warm-up steps: the floor alone
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
        var warmup = new TrainingClusterOptions { DeviceHangWarmupSteps = -1, DeviceHangWarmupLimit = TimeSpan.FromSeconds(10) }.Validate();
        Assert.Contains(warmup, p => p.StartsWith("DeviceHangWarmupSteps = -1", StringComparison.Ordinal));
        Assert.Contains(warmup, p => p.StartsWith("DeviceHangWarmupLimit = 00:00:10 must be at least DeviceHangFloor", StringComparison.Ordinal));
        Assert.Empty(new TrainingClusterOptions().Validate());
    }
}
