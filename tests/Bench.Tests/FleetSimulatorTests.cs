using Cluster.Bench.Simulation;

namespace Cluster.Bench.Tests;

/// <summary>
/// The simulator on tiny fleets with hand-made traces: every second of the horizon lands in exactly one bucket, and
/// each bucket holds what the rules say (one day, 4 hosts, 8 s steps).
/// </summary>
public sealed class FleetSimulatorTests
{
    private const double Day = 86_400;

    // Durable restore: 4 GB at 1 GB/s + 1 GB fan-out at 1 GB/s = 5 s; a peer restore 1 s.
    private static readonly FleetSetup s_setup = new(JobHosts: 4, GpusPerHost: 1, StepSeconds: 8, Days: 1, StateBytesPerGpu: 1_000_000_000,
        CheckpointBytes: 4_000_000_000, StorageGBps: 1, PeerGBps: 1, HostsPerRack: 2);

    // Durable every 3 steps (24 s), no stalls; a crash seen in 5 s, a hang in 50 s; restarts take 20 s; one spare host.
    private static readonly RecoveryPolicy s_durable = new("durable", DurableIntervalMinutes: 0.4, DurableStallSeconds: 0, InMemoryEverySteps: 0,
        InMemoryStallSeconds: 0, CrashDetectionSeconds: 5, HangDetectionSeconds: 50, RestartSeconds: 20, RestartWholeJob: true, SpareHosts: 1);

    private static readonly RecoveryPolicy s_memory = s_durable with { Name = "memory", InMemoryEverySteps = 1, RestartWholeJob = false, DurableIntervalMinutes = 60 };

    private static readonly FailureCause s_crash = new("crash", "software", 1, Hangs: false, RepairHours: 0);
    private static readonly FailureCause s_hostLoss = new("gpu", "faulty GPU", 1, Hangs: false, RepairHours: 1);
    private static readonly FailureCause s_corruption = new("sdc", "other GPU", 1, Hangs: false, RepairHours: 1, CorruptsState: true);

    private static SimulationResult Simulate(RecoveryPolicy policy, FailureCause cause, params double[] failureTimes) =>
        new FleetSimulator(s_setup, [cause]).Run(policy, new FailureTrace([.. failureTimes.Select(t => new FailureEvent(t, 0, 0.1))]));

    [Fact]
    public void Without_failures_goodput_is_one_minus_the_checkpoint_overhead_exactly()
    {
        // A 1 s stall after every 8 s step: 9,600 steps fill the day exactly, goodput 8/9.
        var policy = s_durable with { DurableIntervalMinutes = 8 / 60.0, DurableStallSeconds = 1 };
        var result = new FleetSimulator(s_setup, [s_crash]).Run(policy, new FailureTrace([]));
        Assert.Equal(9_600, result.Steps);
        Assert.Equal(8.0 / 9.0, result.Goodput, 12);
        Assert.Equal(9_600, result.DurableStallSeconds, 6);
        Assert.Equal(0, result.LostSeconds);
        Assert.Equal(Day, result.AccountedSeconds, 6);
    }

    [Fact]
    public void A_crash_costs_detection_restart_restore_and_the_work_since_the_last_durable_checkpoint()
    {
        // Step 10 ends at 80 s, the last checkpoint is step 9 (72 s); the crash at 85 s throws away 80 − 72 + 5 = 13 s.
        var result = Simulate(s_durable, s_crash, 85);
        var lost = result.LostByCategory["software"];
        Assert.Equal(1, lost.Interruptions);
        Assert.Equal(13, lost.Recompute, 9);
        Assert.Equal(5, lost.Detection, 9);
        Assert.Equal(20, lost.Restart, 9);
        Assert.Equal(5, lost.Restore, 9);
        Assert.Equal(0, lost.WaitingForCapacity);
        // Resumed at step 9 at 115 s: 10,785 more steps, 5 s of an unfinished step at the end.
        Assert.Equal(9 + 10_785, result.Steps);
        Assert.Equal(5, result.TailSeconds, 6);
        Assert.Equal(Day, result.AccountedSeconds, 6);
        Assert.Equal((0, 1), (result.RestoresFromMemory, result.RestoresFromDurable));
    }

    [Fact]
    public void With_in_memory_snapshots_every_step_a_crash_loses_only_the_unfinished_step()
    {
        var result = Simulate(s_memory, s_crash, 85);
        var lost = result.LostByCategory["software"];
        Assert.Equal((1, 0), (result.RestoresFromMemory, result.RestoresFromDurable));
        Assert.Equal(5, lost.Recompute, 9);  // 80 → 85 s
        Assert.Equal(1, lost.Restore, 9);    // the crashed host's stage fetches its state from its peer
        Assert.Equal(0, result.StagesMoved); // the host is still there
        Assert.Equal(Day, result.AccountedSeconds, 6);
    }

    [Fact]
    public void A_lost_host_moves_its_stage_to_the_spare_and_the_job_restores_from_its_peers_copy()
    {
        var result = Simulate(s_memory, s_hostLoss, 85);
        Assert.Equal(1, result.StagesMoved);
        Assert.Equal((1, 0), (result.RestoresFromMemory, result.RestoresFromDurable));
        Assert.Equal(0, result.PlacementRefusals);
    }

    [Fact]
    public void Silent_data_corruption_rolls_back_to_the_durable_checkpoint_even_with_in_memory_snapshots()
    {
        var result = Simulate(s_memory, s_corruption, 85);
        Assert.Equal((0, 1), (result.RestoresFromMemory, result.RestoresFromDurable));
        Assert.Equal(85, result.LostByCategory["other GPU"].Recompute, 9); // back to step 0: the only durable checkpoint
    }

    [Fact]
    public void Without_a_spare_host_the_job_waits_for_the_repair()
    {
        var result = Simulate(s_durable with { SpareHosts = 0 }, s_hostLoss, 85);
        var lost = result.LostByCategory["faulty GPU"];
        Assert.Equal(3_600 - 5, lost.WaitingForCapacity, 6); // repaired 1 h after the failure, noticed 5 s after it
        Assert.True(result.PlacementRefusals >= 1);
        Assert.Equal(0, result.StagesMoved); // the stage goes back to its repaired host
        Assert.Equal(Day, result.AccountedSeconds, 6);
    }

    [Fact]
    public void A_failure_during_a_recovery_restarts_it_and_every_second_is_still_accounted_once()
    {
        var result = Simulate(s_durable, s_crash, 85, 100, 101, 4_000);
        Assert.Equal(4, result.LostByCategory["software"].Interruptions);
        Assert.Equal(Day, result.AccountedSeconds, 6);
    }

    [Fact]
    public void The_Llama_3_trace_has_419_interruptions_in_the_published_mix_and_runs_are_deterministic()
    {
        var causes = FailureCause.Llama3;
        Assert.Equal(419, causes.Sum(c => c.Count));
        var trace = FailureTrace.Generate(causes, 54 * Day, 1.0, seed: 5);
        Assert.Equal(419, trace.Events.Count);
        Assert.Equal(148, trace.Events.Count(e => causes[e.Cause].Component == "Faulty GPU"));
        Assert.Equal(72, trace.Events.Count(e => causes[e.Cause].Component == "GPU HBM3 memory"));
        Assert.Equal(trace.Events, FailureTrace.Generate(causes, 54 * Day, 1.0, seed: 5).Events);

        var setup = s_setup with { JobHosts = 64, Days = 54 };
        var a = new FleetSimulator(setup, causes).Run(RecoveryPolicy.InMemory, trace);
        var b = new FleetSimulator(setup, causes).Run(RecoveryPolicy.InMemory, trace);
        Assert.Equal(a.Goodput, b.Goodput);
        Assert.Equal(419, a.Interruptions);
        Assert.Equal(54 * Day, a.AccountedSeconds, 3);
    }
}
