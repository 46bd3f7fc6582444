using System.Globalization;
using Cluster.Bench.Charts;
using Cluster.Kernels.Planning;

namespace Cluster.Bench.Simulation;

/// <summary>
/// <c>simulate</c>: goodput of a 16,384-GPU, 54-day training job under the Llama 3 failure mix, for recovery policies
/// from plain checkpoint-restart to in-memory snapshots every step with spares and fast detection, with the time
/// lost by cause and a chart of goodput against the durable checkpoint interval.
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
        var custom = CustomPolicy(args);
        args.EnsureAllUsed();
        if (gpus % Math.Max(1, perHost) != 0)
            throw new ArgumentException($"--gpus {gpus} is not a multiple of --gpus-per-host {perHost}.");

        // The job: the planner's fastest layout of the 494B preset on this many H100s gives the step time and state sizes.
        var model = PlannerPresets.Decoder500B;
        var plan = TrainingPlanner.Plan(model, FleetShape.H100(gpus), new TrainingShape(2_048)).Best
                   ?? throw new ArgumentException($"The 494B preset does not fit {gpus} H100s; use --gpus 16384 or more.");
        var setup = new FleetSetup(gpus / perHost, perHost, stepOverride > 0 ? stepOverride : plan.StepSeconds, days,
            plan.Memory.Weights + plan.Memory.OptimizerState, model.ParameterCount * (model.DTypeBytes + 12), storage, peer);
        var problems = setup.Validate().Concat(RecoveryPolicy.All.Append(custom ?? RecoveryPolicy.InMemory).SelectMany(p => p.Validate())).ToArray();
        if (problems.Length > 0)
            throw new ArgumentException(string.Join(Environment.NewLine, problems));

        var causes = FailureCause.Llama3;
        var trace = FailureTrace.Generate(causes, setup.HorizonSeconds, setup.JobHosts / 2048.0, seed);
        var simulator = new FleetSimulator(setup, causes);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"simulate — {gpus:N0} GPUs ({setup.JobHosts:N0} hosts × {perHost}), {days} days, {trace.Events.Count} interruptions (Llama 3 mix, seed {seed}); " +
            $"job: {model.Name}, {plan.Plan} D={plan.DataParallel}, step {setup.StepSeconds:F2} s, state {setup.StateBytesPerGpu / 1e9:F1} GB/GPU, checkpoint {setup.CheckpointBytes / 1e12:F1} TB; " +
            $"durable restore {setup.DurableRestoreSeconds:F1} s, peer restore {setup.PeerRestoreSeconds:F1} s"));
        Console.WriteLine();

        var policies = RecoveryPolicy.All.ToList();
        if (custom is not null) policies.Add(custom);
        var results = policies.Select(p => simulator.Run(p, trace)).ToArray();
        PrintByCategory(results);
        Console.WriteLine();
        PrintByPhase(results);

        var swept = RecoveryPolicy.All.Take(4).ToArray();
        var series = swept.Select(p => (p.Name, (IReadOnlyList<(double, double)>)s_intervals
            .Select(i => (i, simulator.Run(p with { DurableIntervalMinutes = i }, trace).Goodput)).ToArray())).ToArray();
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

        var baseline = results[0];
        var best = results.MaxBy(r => r.Goodput)!;
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT goodput_baseline={baseline.Goodput:F4} goodput_best={best.Goodput:F4} best_policy={Slug(best.Policy.Name)} interruptions={trace.Events.Count}"));
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
