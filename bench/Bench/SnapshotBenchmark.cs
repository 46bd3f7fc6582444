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
        args.EnsureAllUsed();
        if (steps < 2 || warmup < 0 || stages < 1 || silos < 1 || rounds < 1 || checkpointInterval < 1)
            throw new ArgumentException("--steps ≥ 2, --warmup ≥ 0, --stages ≥ 1, --silos ≥ 1, --rounds ≥ 1 and --checkpoint-interval ≥ 1, please.");

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
                $"snapshot_own_cpu_ms_per_step={Median.Of(ownCpu):F1} checkpoint_interval={checkpointInterval} silos={silos}"));
            return 0;
        }
        finally
        {
            try { Directory.Delete(root, recursive: true); } catch (IOException) { }
        }
    }
}
