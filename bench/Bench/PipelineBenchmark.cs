using System.Diagnostics;
using System.Globalization;
using Cluster.Grains.Compute;
using Cluster.Grains.Hosting;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Jobs;
using Cluster.Kernels.Config;
using Cluster.Kernels.Data;
using Cluster.Kernels.Training;
using Microsoft.Extensions.DependencyInjection;

namespace Cluster.Bench;

/// <summary>
/// <c>pipeline</c>: tokens/s of the grain-driven pipeline — 4 stages on 1 silo, and 4 stages over 3 silos (real
/// silo-to-silo messaging on loopback) — divided by the reference trainer's, same model, same steps, same run. The
/// job runs the default spec, as users run it: in-memory snapshots every step, durable checkpoints at the default
/// interval, events and progress on; its tokens/s come from wall time per step end to end (<see cref="JobWallClock"/>),
/// so the snapshot, checkpoint and state-save costs are in the ratio. A data-parallel contender runs the same job as
/// 2 replicas × 1 stage on two 1-thread device slots of one silo, against twice the 1-thread reference trainer
/// (<see cref="PipelineRatios.RatioDp2"/>); right after it, two 1-thread reference trainers run at once in two
/// processes, which measures how far two cores of this machine scale with no communication at all
/// (<see cref="PipelineRatios.CeilingDp2"/>: memory bandwidth and caches are shared) — the ceiling of any
/// data-parallel contender here, torchrun + DDP included. The per-step split (device compute, waiting for a
/// busy device, messaging, clip-norm reduction + optimizer step) is the job's own record of its steps.
/// Every contender runs in its own process, so none inherits another's threads, heap or native allocator state.
/// The contenders run in <c>--rounds</c> rounds (3 by default), each set against the references measured just before
/// and just after it: a shared host's drift over the run moves a round's references with its contenders, and the
/// rounds' spread is reported — each ratio's median, and its worst round beside it (<see cref="PipelineRounds"/>).
/// <para>
/// Each contender first runs <c>--warmup</c> steps (80 by default) outside the measured window: measured on this
/// project's 2-core machine, a fresh process runs the job's managed code (the control plane, the stage's wrappers around
/// the kernels, encoding and hashing of snapshots) as unoptimised tier-0 JIT code for its first ≈ 20 s, and dp2 made
/// 12,700–13,100 tokens/s after 3 warm-up steps, 14,600–14,900 after 20, 15,800 after 40 and 16,900–17,300 after 80
/// (with tiered compilation off, 16,200–16,900 after 3). A training job runs for hours, so the figure is the steady
/// state; the warm-up steps' own wall time per step is printed beside it, for every contender.
/// </para>
/// </summary>
internal static class PipelineBenchmark
{
    /// <summary>Steps each contender runs before the measured window: enough for tiered compilation to settle (see the class comment).</summary>
    public const int DefaultWarmup = 80;

    /// <summary>Rounds by default: each runs every contender once, so the figures come with their spread (median and worst).</summary>
    public const int DefaultRounds = 3;

    /// <summary>The contender of two 1-thread reference trainers run at once (in the parent: two child processes).</summary>
    private const string TwoAtOnce = "reference1x2";

    /// <summary>The references, run first in every round and once more after the last.</summary>
    private static readonly string[] References = ["reference", "reference1"];

    /// <summary>One round, in order.</summary>
    private static readonly string[] Contenders = [.. References, "1silo", "3silos", "dp2", TwoAtOnce];

    public static async Task<int> RunAsync(BenchArguments args)
    {
        int steps = args.Int("steps", 20);
        int warmup = args.Int("warmup", DefaultWarmup);
        int stages = args.Int("stages", 4);
        int rounds = args.Int("rounds", DefaultRounds);
        string mode = args.String("mode", "all");
        args.EnsureAllUsed();
        if (rounds < 1)
            throw new ArgumentException($"--rounds {rounds}: use 1 or more (each round runs every contender once; {DefaultRounds} by default).");
        if (mode != "all")
            return await RunOne(mode, steps, warmup, stages);

        var options = DemoPreset.Options(steps + warmup);
        Console.WriteLine($"pipeline benchmark — demo model ({options.Model.ParameterCount:N0} parameters, {options.TokensPerStep:N0} tokens/step), " +
                          $"{stages} stages, 1F1B; {warmup} warm-up + {steps} measured steps per run; {rounds} round(s); {Environment.ProcessorCount} cores");
        Console.WriteLine("Each contender runs in a fresh process, one after another (a cluster leaves a process slower than it found it); each round");
        Console.WriteLine("runs every contender once, and its contenders are set against the references measured before and after them.");
        var defaults = new JobSpec();
        Console.WriteLine($"Job spec as users run it: snapshotInterval={defaults.SnapshotInterval}, checkpointInterval={defaults.CheckpointInterval}, snapshotReplicas={defaults.SnapshotReplicas}.");
        var results = new Dictionary<(int Round, string Contender), string[]>();
        string Arguments(string contender) => $"pipeline --mode {contender} --steps {steps} --warmup {warmup} --stages {stages}";
        // Round r's references run first in it and again first in round r + 1 (a closing pair after the last round).
        var runs = Enumerable.Range(0, rounds).SelectMany(r => Contenders.Select(c => (Round: r, Contender: c)))
            .Concat(References.Select(c => (Round: rounds, Contender: c)));
        foreach (var (round, contender) in runs)
        {
            if (contender == TwoAtOnce)
            {
                // Started together, same work at the same pace: their measured windows overlap.
                var pair = await Task.WhenAll(SelfProcess.RunAsync(Arguments("reference1"), "CONTENDER "), SelfProcess.RunAsync(Arguments("reference1"), "CONTENDER "));
                results[(round, TwoAtOnce + "-a")] = pair[0];
                results[(round, TwoAtOnce + "-b")] = pair[1];
                continue;
            }
            results[(round, contender)] = await SelfProcess.RunAsync(Arguments(contender), "CONTENDER ");
        }
        double Field(int round, string key, int i) => double.Parse(results[(round, key)][i], CultureInfo.InvariantCulture);
        double Tps(int round, string key) => Field(round, key, 2);
        int cores = Environment.ProcessorCount;
        // The share of the machine's cores spent on compute over the measured window: device threads' CPU ÷ (cores × wall).
        double ComputeShare(int round, string key) => Field(round, key, 10) / (cores * Field(round, key, 4));

        var ratios = new List<PipelineRatios>(rounds);
        for (int r = 0; r < rounds; r++)
        {
            double reference = (Tps(r, "reference") + Tps(r + 1, "reference")) / 2;
            double reference1 = (Tps(r, "reference1") + Tps(r + 1, "reference1")) / 2;
            double twoAtOnce = Tps(r, TwoAtOnce + "-a") + Tps(r, TwoAtOnce + "-b");
            var round = new PipelineRatios(reference, Tps(r, "1silo"), Tps(r, "3silos"), reference1, Tps(r, "dp2"), defaults.SnapshotInterval, defaults.CheckpointInterval, warmup, twoAtOnce);
            ratios.Add(round);

            Console.WriteLine();
            Console.WriteLine($"round {r + 1} of {rounds}");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"reference trainer: {reference:N0} tokens/s (before {Tps(r, "reference"):N0}, after {Tps(r + 1, "reference"):N0})"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"reference trainer, 1 thread: {reference1:N0} tokens/s (before {Tps(r, "reference1"):N0}, after {Tps(r + 1, "reference1"):N0})"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"two 1-thread reference trainers at once: {twoAtOnce:N0} tokens/s ({Tps(r, TwoAtOnce + "-a"):N0} + {Tps(r, TwoAtOnce + "-b"):N0}), {round.CeilingDp2:F3} of twice one alone: this machine's ceiling for dp2; " +
                $"compute took {ComputeShare(r, TwoAtOnce + "-a") + ComputeShare(r, TwoAtOnce + "-b"):F3} of the {cores} cores"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"warm-up wall ms/step ({warmup} steps before the measured window): reference {results[(r, "reference")][9]}, 1-thread reference {results[(r, "reference1")][9]}"));
            Console.WriteLine($"{"run",-10} {"silos used",10} {"tokens/s",9} {"ratio",6} {"wall ms",8} {"compute",8} {"queue",7} {"messaging",9} {"reduce+update",13} {"warm-up wall ms",16} {"device cpu",11} {"other cpu",10} {"compute share",14} {"device util",12}");
            foreach (string key in new[] { "1silo", "3silos", "dp2" })
            {
                var f = results[(r, key)];
                double ratio = key switch { "dp2" => round.RatioDp2, "1silo" => round.Ratio1Silo, _ => round.Ratio3Silo };
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{key,-10} {f[3],10} {Tps(r, key),9:N0} {ratio,6:F3} {f[4],8} {f[5],8} {f[6],7} {f[7],9} {f[8],13} {f[9],16} {f[10],11} {f[11],10} {ComputeShare(r, key),14:F3} {f[12],12}"));
            }
        }
        Console.WriteLine();
        Console.WriteLine("wall is per step, end to end (the job's snapshots, checkpoints and saves included); compute, queue and messaging are");
        Console.WriteLine("the job's record of its steps, summed over micro-batches and stages (they overlap in time). dp2 is 2 replicas x 1 stage");
        Console.WriteLine("on two 1-thread slots; its ratio is against twice the 1-thread reference. device cpu and other cpu are ms of CPU per step of");
        Console.WriteLine("the device threads (forward, backward, optimizer, the snapshot's copy off the device) and of the rest of the process;");
        Console.WriteLine("compute share = device cpu / (cores x wall), the part of the machine the compute got; device util = the wall time the");
        Console.WriteLine("job's device slots spent running operations / (slots x wall): 1 - device util is the time they waited for work (the");
        Console.WriteLine("all-reduce's barrier, the round trips between calls), as a GPU's utilization shows it. RESULT gives each ratio's median");
        Console.WriteLine("over the rounds, and its worst round as _min.");
        Console.WriteLine();
        Console.WriteLine(new PipelineRounds(ratios).ResultLine());
        return 0;
    }

    /// <summary>
    /// Measures one contender in this process and prints one "CONTENDER name tokens/s silos wall compute queue messaging
    /// reduce warm-up-wall device-cpu other-cpu device-util" line (ms per step; the reference trainer's CPU is all compute).
    /// </summary>
    private static async Task<int> RunOne(string mode, int steps, int warmup, int stages)
    {
        var options = DemoPreset.Options(steps + warmup);
        if (mode is "reference" or "reference1")
        {
            var (tps, warmupMs, cpuMs) = MeasureReference(options, warmup, steps, mode == "reference1" ? 1 : Environment.ProcessorCount);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"CONTENDER {mode} {tps:F1} 0 {options.TokensPerStep / tps * 1000:F1} 0 0 0 0 {warmupMs:F1} {cpuMs:F1} 0 -"));
            return 0;
        }
        // dp2: 2 replicas of 1 stage, one per 1-thread slot; the pipelines: the stages spread over the slots, which share the cores.
        var (silos, slots, replicas) = mode switch
        {
            "1silo" => (1, stages, 1),
            "3silos" => (3, (stages + 2) / 3, 1),
            "dp2" => (1, 2, 2),
            _ => throw new ArgumentException($"--mode '{mode}': use all, reference, reference1, 1silo, 3silos or dp2."),
        };
        if (replicas > 1) stages = 1;
        int threads = replicas > 1 ? 1 : Math.Max(1, Environment.ProcessorCount / (silos * slots));
        string root = Path.Combine(Path.GetTempPath(), "cluster-bench", Guid.NewGuid().ToString("N"));
        try
        {
            await using var cluster = await LocalCluster.StartAsync(silos, slots, threads, root);
            await cluster.WaitForNodesAsync(silos * slots, TimeSpan.FromSeconds(60));
            // The default spec (snapshots every step, checkpoints at the default interval): what a user's job pays.
            var defaults = new JobSpec();
            var spec = JobSpecs.FromTrainerOptions($"bench-{mode}", options, stages, steps + warmup, checkpointInterval: defaults.CheckpointInterval)
                with { SnapshotInterval = defaults.SnapshotInterval, MinReplicas = replicas, MaxReplicas = replicas };
            var job = cluster.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
            var devices = cluster.Silos.SelectMany(s => s.Services.GetRequiredService<DeviceWorkerPool>().Workers).ToArray();
            var cost = await JobWallClock.MeasureAsync(cluster.Client, spec, warmup, TimeSpan.FromMinutes(10),
                () => devices.Sum(d => d.BusyTime(TimeProvider.System.GetUtcNow()).TotalMilliseconds));
            double wall = cost.WallMsPerStep;
            var status = await job.GetStatus();
            int ran = status.Placement.Select(p => p.Replica).Distinct().Count();
            if (ran != replicas)
                throw new InvalidOperationException($"{mode}: the job ran {ran} replica(s), not {replicas}: {string.Join(", ", status.Placement.Select(p => $"r{p.Replica}/s{p.Stage}→{p.NodeId}"))}.");
            var t = (await job.GetStepTimings()).Where(t => t.Step >= warmup).ToArray();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"CONTENDER {mode} {options.TokensPerStep / (wall / 1000):F1} {status.Placement.Select(p => p.SiloName).Distinct().Count()} {wall:F1} {t.Average(x => x.ComputeMs):F1} {t.Average(x => x.QueueMs):F1} {t.Average(x => x.MessagingMs):F1} {t.Average(x => x.ReduceAndUpdateMs):F1} {cost.WarmupWallMsPerStep:F1} {cost.DeviceCpuMsPerStep:F1} {cost.CpuMsPerStep - cost.DeviceCpuMsPerStep:F1} {cost.DeviceBusyMsPerStep / (status.Placement.Select(p => p.NodeId).Distinct().Count() * wall):F3}"));
            return 0;
        }
        finally
        {
            try { Directory.Delete(root, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>
    /// The reference trainer's tokens/s over the measured steps, its warm-up steps' wall ms per step (the first step,
    /// which builds the model's kernels, left out) and this process's CPU ms per measured step.
    /// </summary>
    private static (double TokensPerSecond, double WarmupMsPerStep, double CpuMsPerStep) MeasureReference(TrainerOptions options, int warmup, int steps, int threads)
    {
        // Threads set explicitly: device workers set their own thread counts, and libtorch's BLAS count is global.
        using var trainer = new ReferenceTrainer(options with { Threads = threads }, SyntheticCorpus.Source());
        if (warmup > 0) trainer.TrainStep();
        var firstSteps = Stopwatch.StartNew();
        for (int i = 1; i < warmup; i++) trainer.TrainStep();
        double warmupMs = warmup > 1 ? firstSteps.Elapsed.TotalMilliseconds / (warmup - 1) : 0;
        using var self = Process.GetCurrentProcess();
        var cpu = self.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < steps; i++) trainer.TrainStep();
        double seconds = clock.Elapsed.TotalSeconds;
        self.Refresh();
        return (options.TokensPerStep * steps / seconds, warmupMs, (self.TotalProcessorTime - cpu).TotalMilliseconds / steps);
    }
}
