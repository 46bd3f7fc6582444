using System.Globalization;
using Cluster.Grains.Hosting;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Jobs;
using Cluster.Kernels.Config;

namespace Cluster.Bench;

/// <summary>
/// <c>snapshot</c>: what in-memory snapshots and durable checkpoints cost a step, in one run on one cluster (3 silos on
/// loopback by default, so each snapshot travels to a holder on another silo). Three specs of the same job, run in
/// turn for several rounds (so drift of a shared machine hits them alike; each round starts with another spec, after one
/// uncounted warm-up round): no snapshots and no checkpoint inside the
/// window; snapshots every step; snapshots every step plus durable checkpoints every <c>--checkpoint-interval</c>
/// steps. Wall time per step end to end (<see cref="JobWallClock"/>). Per round, stall = (snapshots − none) ÷ none and
/// checkpoint stall = (snapshots + checkpoints − snapshots) ÷ none (the durable stall averaged over its interval); the
/// result is the median over rounds, each set against the other specs of its own round, so drift of a shared machine
/// between rounds (measured: one spec's mean moved by 55–95 ms per step from one round to the next on a quiet machine)
/// does not leak into it. The lowest and highest round are printed beside it. CPU per step is split into the device
/// threads' (the compute, and the snapshot's device copy) and the rest (<see cref="DeviceThreadsCpu"/>): a snapshot's
/// cost that shows in the device threads is the compute slowed beside it, not work of its own;
/// <c>snapshot_own_cpu_ms_per_step</c> is the median over rounds of the snapshots' CPU outside the device threads.
/// Then, unless <c>--interleaved-steps 0</c>, the same costs measured within one job each (<see cref="Interleaved"/>):
/// a shared host's drift between jobs a few seconds apart (20–60 % of a job's mean step on 2026-12-05) swamps a 2 %
/// goal in the rounds' figures, while each interleaved event is set against the steps right around it.
/// </summary>
internal static class SnapshotBenchmark
{
    public static async Task<int> RunAsync(BenchArguments args)
    {
        int steps = args.Int("steps", 20);
        int warmup = args.Int("warmup", 3);
        int stages = args.Int("stages", 4);
        int silos = args.Int("silos", 3);
        int rounds = args.Int("rounds", 5);
        int checkpointInterval = args.Int("checkpoint-interval", new JobSpec().CheckpointInterval);
        int interleavedSteps = args.Int("interleaved-steps", 320);
        args.EnsureAllUsed();
        if (steps < 2 || warmup < 0 || stages < 1 || silos < 1 || rounds < 1 || checkpointInterval < 1)
            throw new ArgumentException("--steps ≥ 2, --warmup ≥ 0, --stages ≥ 1, --silos ≥ 1, --rounds ≥ 1 and --checkpoint-interval ≥ 1, please.");
        if (interleavedSteps != 0 && interleavedSteps < 4 * CheckpointBlock)
            throw new ArgumentException($"--interleaved-steps is 0 (none) or {4 * CheckpointBlock} or more.");

        var options = DemoPreset.Options(steps + warmup);
        int slots = (stages + silos - 1) / silos;
        int threads = Math.Max(1, Environment.ProcessorCount / (silos * slots));
        Console.WriteLine($"snapshot benchmark — demo model ({options.Model.ParameterCount:N0} parameters, {options.TokensPerStep:N0} tokens/step), {stages} stages on {silos} silo(s) × {slots} slot(s); " +
                          $"{warmup} warm-up + {steps} measured steps per job, 1 uncounted + {rounds} round(s) of 3 specs; checkpoints every {checkpointInterval} steps; {Environment.ProcessorCount} cores");
        string root = Path.Combine(Path.GetTempPath(), "cluster-bench", "snapshot-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            await using var cluster = await LocalCluster.StartAsync(silos, slots, threads, root);
            await cluster.WaitForNodesAsync(silos * slots, TimeSpan.FromSeconds(60));
            var kinds = new (string Name, int Snapshot, int Checkpoint)[] { ("none", 0, 0), ("snapshots", 1, 0), ("snapshots+checkpoints", 1, checkpointInterval) };
            var wall = kinds.ToDictionary(k => k.Name, _ => new List<double>());
            var cpu = kinds.ToDictionary(k => k.Name, _ => new List<double>());
            var deviceCpu = kinds.ToDictionary(k => k.Name, _ => new List<double>());
            Console.WriteLine();
            Console.WriteLine($"{"round",5} {"spec",-22} {"ms/step",8} {"cpu ms/step",12} {"device cpu",11} {"other cpu",10} {"gen2/step",10} {"gc pause ms/step",17}");
            // Round 0 warms the cluster up and is not counted: measured, it ran 20–35 % slower than the later rounds for
            // every spec, with more CPU per step (an uncounted job of 80 steps before it did not take that away).
            for (int round = 0; round <= rounds; round++)
                foreach (var (name, snapshot, checkpoint) in kinds.Skip(round % kinds.Length).Concat(kinds.Take(round % kinds.Length))) // each spec first in turn
                {
                    // checkpointInterval 0: only the final checkpoint, after the measured window.
                    var spec = JobSpecs.FromTrainerOptions($"snapshot-{name.Replace('+', '-')}-{round}", options, stages, steps + warmup, checkpoint) with { SnapshotInterval = snapshot };
                    var cost = await JobWallClock.MeasureAsync(cluster.Client, spec, warmup, TimeSpan.FromMinutes(10));
                    if (round > 0)
                    {
                        wall[name].Add(cost.WallMsPerStep);
                        cpu[name].Add(cost.CpuMsPerStep);
                        deviceCpu[name].Add(cost.DeviceCpuMsPerStep);
                    }
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{(round == 0 ? "warm" : round.ToString(CultureInfo.InvariantCulture)),5} {name,-22} {cost.WallMsPerStep,8:F1} {cost.CpuMsPerStep,12:F1} {cost.DeviceCpuMsPerStep,11:F1} {cost.CpuMsPerStep - cost.DeviceCpuMsPerStep,10:F1} {cost.Gen2PerStep,10:F2} {cost.GcPauseMsPerStep,17:F1}"));
                }
            var interleaved = interleavedSteps > 0 ? await Interleaved(cluster.Client, options, stages, interleavedSteps, checkpointInterval) : null;
            double none = wall["none"].Average(), snapshots = wall["snapshots"].Average(), both = wall["snapshots+checkpoints"].Average();
            double Spread(string name) => wall[name].Max() - wall[name].Min();
            var stalls = Enumerable.Range(0, rounds).Select(r => (wall["snapshots"][r] - wall["none"][r]) / wall["none"][r]).Order().ToArray();
            // The snapshots' own work (encoding, sending, the holders' receiving, their garbage) is CPU outside the device
            // threads; per round, set against the none spec of the same round.
            var ownCpu = Enumerable.Range(0, rounds).Select(r => (cpu["snapshots"][r] - deviceCpu["snapshots"][r]) - (cpu["none"][r] - deviceCpu["none"][r])).Order().ToArray();
            var checkpointStalls = Enumerable.Range(0, rounds).Select(r => (wall["snapshots+checkpoints"][r] - wall["snapshots"][r]) / wall["none"][r]).Order().ToArray();
            Console.WriteLine();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"mean ms/step: none {none:F1} (spread {Spread("none"):F1}), snapshots every step {snapshots:F1} (spread {Spread("snapshots"):F1}), " +
                $"+ checkpoints every {checkpointInterval} {both:F1} (spread {Spread("snapshots+checkpoints"):F1})"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"per round: stall {string.Join(" ", stalls.Select(f => f.ToString("F3", CultureInfo.InvariantCulture)))}; " +
                $"checkpoint stall {string.Join(" ", checkpointStalls.Select(f => f.ToString("F3", CultureInfo.InvariantCulture)))} (sorted; the result is the median)"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"RESULT stall_fraction={Median.Of(stalls):F3} checkpoint_stall_fraction={Median.Of(checkpointStalls):F3} " +
                $"stall_fraction_min={stalls[0]:F3} stall_fraction_max={stalls[^1]:F3} " +
                $"checkpoint_stall_fraction_min={checkpointStalls[0]:F3} checkpoint_stall_fraction_max={checkpointStalls[^1]:F3} none_ms_per_step={none:F1} " +
                $"snapshot_ms_per_step={snapshots:F1} checkpoint_ms_per_step={both:F1} none_cpu_ms_per_step={cpu["none"].Average():F1} " +
                $"snapshot_cpu_ms_per_step={cpu["snapshots"].Average():F1} checkpoint_cpu_ms_per_step={cpu["snapshots+checkpoints"].Average():F1} " +
                $"none_device_cpu_ms_per_step={deviceCpu["none"].Average():F1} snapshot_device_cpu_ms_per_step={deviceCpu["snapshots"].Average():F1} " +
                $"snapshot_own_cpu_ms_per_step={Median.Of(ownCpu):F1} checkpoint_interval={checkpointInterval} silos={silos}{interleaved}"));
            return 0;
        }
        finally
        {
            try { Directory.Delete(root, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>Warm-up steps of each interleaved job (not timed).</summary>
    private const int InterleavedWarmup = 8;

    /// <summary>In the snapshot job, a snapshot every this many steps: its copy and its work beside the next step, then two clean steps.</summary>
    private const int SnapshotBlock = 4;

    /// <summary>In the checkpoint job, a checkpoint every this many steps: five to cover its copy, its shards' writes and its commit, then three clean steps.</summary>
    private const int CheckpointBlock = 8;

    /// <summary>
    /// The noise-robust half (<see cref="InterleavedCost"/>): one job that snapshots every <see cref="SnapshotBlock"/>
    /// steps, each snapshot set against the clean steps around it, and one that snapshots every step and checkpoints
    /// every <see cref="CheckpointBlock"/>, each checkpoint set against the snapshot-only steps around it; the figures
    /// are scaled to the default spec (a snapshot every step; a checkpoint every <paramref name="checkpointInterval"/>).
    /// The second job's commits are counted (the checkpoint coordinator skips a checkpoint due while one is in flight,
    /// which would make the cost look smaller than it is): <c>checkpoints_committed</c> of <c>checkpoints_due</c>.
    /// Returns the RESULT fields it adds.
    /// </summary>
    private static async Task<string> Interleaved(IClusterClient client, TrainerOptions options, int stages, int steps, int checkpointInterval)
    {
        var snapshotSpec = JobSpecs.FromTrainerOptions("snapshot-interleaved", options, stages, InterleavedWarmup + steps, 0) with { SnapshotInterval = SnapshotBlock };
        var snapshotStarts = await StepStarts(client, snapshotSpec);
        var snapshot = InterleavedCost.Of(snapshotStarts, SnapshotBlock, affected: 2, clean: 2, fromStep: InterleavedWarmup);

        var checkpointSpec = JobSpecs.FromTrainerOptions("checkpoint-interleaved", options, stages, InterleavedWarmup + steps, CheckpointBlock) with { SnapshotInterval = 1 };
        using var commits = new CommitCounter(checkpointSpec.JobId);
        var checkpointStarts = await StepStarts(client, checkpointSpec);
        var checkpoint = InterleavedCost.Of(checkpointStarts, CheckpointBlock, affected: 5, clean: 3, fromStep: InterleavedWarmup);
        int due = (InterleavedWarmup + steps) / CheckpointBlock; // every multiple of the block, the last step's included

        // The snapshot job's clean steps take no snapshot: the step the stall is a fraction of.
        var (stall, stallLow, stallHigh) = snapshot.Fraction(snapshot.CleanStepMs, every: 1);
        var (checkpointStall, checkpointLow, checkpointHigh) = checkpoint.Fraction(snapshot.CleanStepMs, every: checkpointInterval);
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"interleaved, one job each ({steps} timed steps after {InterleavedWarmup} warm-up): a snapshot costs {snapshot.MeanCostMs:F1} ± {snapshot.HalfWidthMs:F1} ms " +
            $"(median {snapshot.MedianCostMs:F1}; {snapshot.Events} snapshots, each against the clean steps around it, {snapshot.CleanStepMs:F1} ms); a checkpoint costs " +
            $"{checkpoint.MeanCostMs:F1} ± {checkpoint.HalfWidthMs:F1} ms beyond its snapshot (median {checkpoint.MedianCostMs:F1}; {checkpoint.Events} checkpoints; " +
            $"{commits.Count} of {due} due committed, commit {commits.MedianSeconds * 1000:F0} ms median); ± is a 95 % interval"));
        return string.Create(CultureInfo.InvariantCulture,
            $" interleaved_stall_fraction={stall:F3} interleaved_stall_fraction_low={stallLow:F3} interleaved_stall_fraction_high={stallHigh:F3} " +
            $"interleaved_checkpoint_stall_fraction={checkpointStall:F3} interleaved_checkpoint_stall_fraction_low={checkpointLow:F3} interleaved_checkpoint_stall_fraction_high={checkpointHigh:F3} " +
            $"checkpoints_committed={commits.Count} checkpoints_due={due}");
    }

    /// <summary>
    /// Runs <paramref name="spec"/> to its end and returns its steps' start times, read every 2 s while it runs (the
    /// job keeps the timings of its last 200 steps only).
    /// </summary>
    private static async Task<(long Step, DateTimeOffset StartedAt)[]> StepStarts(IClusterClient client, JobSpec spec)
    {
        var job = client.GetGrain<ITrainingJobGrain>(spec.JobId);
        var starts = new SortedDictionary<long, DateTimeOffset>();
        await job.Submit(spec);
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(20);
        while (true)
        {
            var status = await job.GetStatus();
            if (status.State is JobState.Failed or JobState.Cancelled) throw new InvalidOperationException($"{spec.JobId}: job {status.State}: {status.Error}");
            foreach (var timing in await job.GetStepTimings())
            {
                if (timing.StartedAt == default) throw new InvalidOperationException($"{spec.JobId}: the job's step timings have no start times.");
                starts[timing.Step] = timing.StartedAt;
            }
            if (status.CompletedSteps >= spec.Steps) return [.. starts.Select(s => (s.Key, s.Value))];
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{spec.JobId}: not done in 20 minutes.");
            await Task.Delay(TimeSpan.FromSeconds(2));
        }
    }
}
