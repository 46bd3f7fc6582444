using System.Globalization;
using Cluster.Bench.Charts;
using Cluster.Kernels.Planning;

namespace Cluster.Bench.Simulation;

/// <summary>
/// <c>simulate</c>: goodput of a 16,384-GPU, 54-day training job under the Llama 3 failure mix, for recovery policies
/// from plain checkpoint-restart to in-memory snapshots every step with spares and fast detection, with the time
/// lost by cause and a chart of goodput against the durable checkpoint interval. Our policies' stalls and detection
/// times come from flags that default to this control plane's measured figures (<see cref="MeasuredFigures"/>,
/// printed with their source); some causes take down the whole job at once (<c>--job-wide</c>); several seeds give the spread.
/// </summary>
internal static class SimulateCommand
{
    private static readonly double[] s_intervals = [5, 10, 15, 20, 30, 45, 60, 90, 120];

    public static Task<int> RunAsync(BenchArguments args)
    {
        int gpus = args.Int("gpus", 16_384), perHost = args.Int("gpus-per-host", 8), seed = args.Int("seed", 1);
        double days = args.Double("days", 54), storage = args.Double("storage-gbps", 2_000), peer = args.Double("peer-gbps", 50);
        double stepOverride = args.Double("step-s", 0);
        string png = args.String("png", Path.Combine("runs", "simulate", "goodput-vs-interval.png"));
        int seeds = args.Int("seeds", 5);
        string jobWide = args.String("job-wide", "software");
        double snapshotStall = args.Double("snapshot-stall-fraction", MeasuredFigures.SnapshotStallFraction);
        double checkpointStall = args.Double("checkpoint-stall-fraction", MeasuredFigures.CheckpointStallFraction);
        double detection = args.Double("our-detection-s", MeasuredFigures.CrashDetectionSeconds);
        double hangDetection = args.Double("our-hang-detection-s", MeasuredFigures.HangDetectionSeconds);
        var figureSources = new (string Flag, double Value, string Source, bool FromFlag)[]
        {
            ("--snapshot-stall-fraction", snapshotStall, MeasuredFigures.SnapshotStallSource, args.Has("snapshot-stall-fraction")),
            ("--checkpoint-stall-fraction", checkpointStall, MeasuredFigures.CheckpointStallSource, args.Has("checkpoint-stall-fraction")),
            ("--our-detection-s", detection, MeasuredFigures.CrashDetectionSource, args.Has("our-detection-s")),
            ("--our-hang-detection-s", hangDetection, MeasuredFigures.HangDetectionSource, args.Has("our-hang-detection-s")),
        };
        var custom = CustomPolicy(args);
        args.EnsureAllUsed();
        if (gpus % Math.Max(1, perHost) != 0)
            throw new ArgumentException($"--gpus {gpus} is not a multiple of --gpus-per-host {perHost}.");
        if (seeds < 1) throw new ArgumentException($"--seeds {seeds}: at least 1.");
        if (snapshotStall < 0 || checkpointStall < 0 || detection < 0 || hangDetection < 0)
            throw new ArgumentException("--snapshot-stall-fraction, --checkpoint-stall-fraction, --our-detection-s and --our-hang-detection-s must be ≥ 0.");
        var jobWideCategories = jobWide == "none" ? [] : jobWide.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        foreach (string category in jobWideCategories)
            if (!FailureCause.Categories.Contains(category))
                throw new ArgumentException($"--job-wide '{category}': use 'none' or a comma-separated list of {string.Join(", ", FailureCause.Categories.Select(c => $"'{c}'"))}.");

        // The job: the planner's fastest layout of the 494B preset on this many H100s gives the step time and state sizes.
        var model = PlannerPresets.Decoder500B;
        var plan = TrainingPlanner.Plan(model, FleetShape.H100(gpus), new TrainingShape(2_048)).Best
                   ?? throw new ArgumentException($"The 494B preset does not fit {gpus} H100s; use --gpus 16384 or more.");
        var setup = new FleetSetup(gpus / perHost, perHost, stepOverride > 0 ? stepOverride : plan.StepSeconds, days,
            plan.Memory.Weights + plan.Memory.OptimizerState, model.ParameterCount * (model.DTypeBytes + 12), storage, peer);
        // Our policies take this control plane's measured figures; the baseline keeps its assumptions (bench/README.md).
        RecoveryPolicy Ours(RecoveryPolicy p, double intervalMinutes) => p == RecoveryPolicy.CheckpointRestart ? p with { DurableIntervalMinutes = intervalMinutes } : p with
        {
            DurableIntervalMinutes = intervalMinutes,
            CrashDetectionSeconds = detection,
            HangDetectionSeconds = hangDetection,
            InMemoryStallSeconds = p.InMemoryEverySteps > 0 ? snapshotStall * setup.StepSeconds * p.InMemoryEverySteps : 0,
            // The measured fraction is the checkpoint's stall averaged over its interval: per checkpoint, fraction × interval.
            DurableStallSeconds = p.InMemoryEverySteps > 0 ? checkpointStall * intervalMinutes * 60 : p.DurableStallSeconds,
        };
        var ours = RecoveryPolicy.All.Select(p => Ours(p, p.DurableIntervalMinutes)).ToArray();
        var problems = setup.Validate().Concat(ours.Append(custom ?? RecoveryPolicy.InMemory).SelectMany(p => p.Validate())).ToArray();
        if (problems.Length > 0)
            throw new ArgumentException(string.Join(Environment.NewLine, problems));

        var causes = FailureCause.Llama3.Select(c => c with { JobWide = jobWideCategories.Contains(c.Category) }).ToArray();
        var trace = FailureTrace.Generate(causes, setup.HorizonSeconds, setup.JobHosts / 2048.0, seed);
        var simulator = new FleetSimulator(setup, causes);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"simulate — {gpus:N0} GPUs ({setup.JobHosts:N0} hosts × {perHost}), {days} days, {trace.Events.Count} interruptions (Llama 3 mix, seed {seed}); " +
            $"job: {model.Name}, {plan.Plan} D={plan.DataParallel}, step {setup.StepSeconds:F2} s, state {setup.StateBytesPerGpu / 1e9:F1} GB/GPU, checkpoint {setup.CheckpointBytes / 1e12:F1} TB; " +
            $"durable restore {setup.DurableRestoreSeconds:F1} s (checkpoint ÷ --storage-gbps + state ÷ --peer-gbps), peer restore {setup.PeerRestoreSeconds:F1} s (state ÷ --peer-gbps)"));
        Console.WriteLine($"job-wide failures (every process of the job lost at once, in-memory copies gone): {(jobWideCategories.Length == 0 ? "none" : string.Join(", ", jobWideCategories))} " +
                          $"({causes.Where(c => c.JobWide).Sum(c => c.Count)} of {causes.Sum(c => c.Count)} interruptions; --job-wide)");
        Console.WriteLine("figures of our policies (the baseline's assumptions are in bench/README.md):");
        foreach (var (flag, value, source, fromFlag) in figureSources)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {flag} {value:G4}  ({(fromFlag ? "given on the command line" : "measured: " + source)})"));
        Console.WriteLine("  stall fractions are of a step of the demo model on CPU; that they carry over to this job's step is an assumption.");
        Console.WriteLine();

        var policies = ours.ToList();
        if (custom is not null) policies.Add(custom);
        var results = policies.Select(p => simulator.Run(p, trace)).ToArray();
        PrintByCategory(results);
        Console.WriteLine();
        PrintByPhase(results);

        var swept = RecoveryPolicy.All.Take(4).ToArray();
        var series = swept.Select(p => (p.Name, (IReadOnlyList<(double, double)>)s_intervals
            .Select(i => (i, simulator.Run(Ours(p, i), trace).Goodput)).ToArray())).ToArray();
        Console.WriteLine();
        Console.WriteLine("goodput against the durable checkpoint interval (minutes):");
        Console.WriteLine($"{"policy",-34}" + string.Concat(s_intervals.Select(i => $"{i,8:0}")));
        foreach (var (name, points) in series)
            Console.WriteLine($"{name,-34}" + string.Concat(points.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Item2,8:P1}"))));
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(png))!);
        double low = Math.Floor(Math.Min(0.8, series.SelectMany(s => s.Item2).Min(p => p.Item2)) * 20) / 20;
        LineChart.Save(png, $"GOODPUT, {gpus} GPUS, {days} DAYS, {trace.Events.Count} INTERRUPTIONS", "DURABLE CHECKPOINT INTERVAL (MINUTES)", "GOODPUT",
            series, low, 1.0, 0.05);
        Console.WriteLine($"chart: {png}");

        // The same policies under other traces (seeds seed … seed + N − 1): the spread a single trace hides.
        var bySeed = Enumerable.Range(seed, seeds).Select(sd => sd == seed ? results
            : policies.Select(p => simulator.Run(p, FailureTrace.Generate(causes, setup.HorizonSeconds, setup.JobHosts / 2048.0, sd))).ToArray()).ToArray();
        Console.WriteLine();
        Console.WriteLine($"goodput over {seeds} seed(s) ({seed}…{seed + seeds - 1}):");
        Console.WriteLine($"{"policy",-34} {"mean",8} {"min",8} {"max",8} {"mem/dur (mean)",15}");
        for (int p = 0; p < policies.Count; p++)
        {
            var runs = bySeed.Select(r => r[p]).ToArray();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{policies[p].Name,-34} {runs.Average(r => r.Goodput),8:P2} {runs.Min(r => r.Goodput),8:P2} {runs.Max(r => r.Goodput),8:P2} {runs.Average(r => r.RestoresFromMemory),7:F0}/{runs.Average(r => r.RestoresFromDurable):F0}"));
        }
        int bestIndex = Enumerable.Range(0, policies.Count).MaxBy(p => bySeed.Average(r => r[p].Goodput));
        var bestRuns = bySeed.Select(r => r[bestIndex]).ToArray();
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT goodput_baseline={bySeed.Average(r => r[0].Goodput):F4} goodput_best={bestRuns.Average(r => r.Goodput):F4} goodput_best_min={bestRuns.Min(r => r.Goodput):F4} " +
            $"goodput_best_max={bestRuns.Max(r => r.Goodput):F4} best_policy={Slug(policies[bestIndex].Name)} interruptions={trace.Events.Count} seeds={seeds}"));
        return Task.FromResult(0);
    }

    private static RecoveryPolicy? CustomPolicy(BenchArguments args)
    {
        string kind = args.String("checkpoint", "");
        bool any = kind.Length > 0;
        foreach (string name in new[] { "interval-min", "detection-s", "hang-detection-s", "restart-s", "spares" }) any |= args.Has(name);
        if (!any) return null;
        var template = kind switch
        {
            "" or "memory" => RecoveryPolicy.InMemory,
            "durable" => RecoveryPolicy.CheckpointRestart,
            _ => throw new ArgumentException($"--checkpoint '{kind}': use 'durable' (checkpoint-restart) or 'memory' (in-memory snapshots every step)."),
        };
        return template with
        {
            Name = $"custom ({(template == RecoveryPolicy.InMemory ? "memory" : "durable")})",
            DurableIntervalMinutes = args.Double("interval-min", template.DurableIntervalMinutes),
            CrashDetectionSeconds = args.Double("detection-s", template.CrashDetectionSeconds),
            HangDetectionSeconds = args.Double("hang-detection-s", template.HangDetectionSeconds),
            RestartSeconds = args.Double("restart-s", template.RestartSeconds),
            SpareHosts = args.Int("spares", template.SpareHosts),
        };
    }

    private static void PrintByCategory(IReadOnlyList<SimulationResult> results)
    {
        var categories = FailureCause.Categories;
        Console.WriteLine("hours lost by cause (count of interruptions in the header):");
        var counts = categories.Select(c => results[0].LostByCategory[c].Interruptions).ToArray();
        var headers = categories.Select((c, i) => $"{c} ({counts[i]})");
        Console.WriteLine($"{"policy",-34} {"goodput",8} {"ckpt h",7} " + string.Join(" ", headers.Select(h => $"{h,17}")));
        foreach (var r in results)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{r.Policy.Name,-34} {r.Goodput,8:P2} {(r.DurableStallSeconds + r.SnapshotStallSeconds) / 3600,7:F1} ") +
                string.Join(" ", categories.Select(c => string.Create(CultureInfo.InvariantCulture, $"{r.LostByCategory[c].Total / 3600,17:F1}"))));
    }

    private static void PrintByPhase(IReadOnlyList<SimulationResult> results)
    {
        Console.WriteLine("hours lost by phase; restores from memory / durable; stages moved; placement refusals (no free host):");
        Console.WriteLine($"{"policy",-34} {"detect",7} {"wait",7} {"restart",7} {"restore",7} {"recomp",7} {"stalls",7} {"mem/dur",9} {"moved",6} {"refused",7}");
        foreach (var r in results)
        {
            double Sum(Func<LostTime, double> f) => r.LostByCategory.Values.Sum(f) / 3600;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{r.Policy.Name,-34} {Sum(l => l.Detection),7:F1} {Sum(l => l.WaitingForCapacity),7:F1} {Sum(l => l.Restart),7:F1} {Sum(l => l.Restore),7:F1} " +
                $"{Sum(l => l.Recompute),7:F1} {(r.DurableStallSeconds + r.SnapshotStallSeconds) / 3600,7:F1} {r.RestoresFromMemory + "/" + r.RestoresFromDurable,9} {r.StagesMoved,6} {r.PlacementRefusals,7}"));
        }
    }

    private static string Slug(string name) => string.Join("-", name.Split([' ', '+', ',', '(', ')'], StringSplitOptions.RemoveEmptyEntries));
}
