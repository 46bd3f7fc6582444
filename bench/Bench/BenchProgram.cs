namespace Cluster.Bench;

/// <summary>One benchmark program, one sub-command per benchmark; each run ends with a <c>RESULT key=value …</c> line.</summary>
internal static class BenchProgram
{
    private static readonly Dictionary<string, (string Summary, Func<BenchArguments, Task<int>> Run)> s_commands = new()
    {
        ["fleet"] = ("an elastic job (1–2 replicas) and a high-priority one on up to 3 silos through shrinking, a join, a silo failure and its return: utilisation, tokens/s, replicas, trajectories", Fleet.FleetBenchmark.RunAsync),
        ["heartbeats"] = ("largest node count one silo's scheduler keeps at p99 < 100 ms heartbeat latency, no false detections", Heartbeats.HeartbeatsBenchmark.RunAsync),
        ["kernels"] = ("tokens/s of the reference trainer vs the in-process stage pipeline (P = 1, 2, 4)", KernelsBenchmark.RunAsync),
        ["pipeline"] = ("tokens/s of the grain-driven pipeline (1 silo, 3 silos) vs the reference trainer", PipelineBenchmark.RunAsync),
        ["snapshot"] = ("step time with in-memory snapshots every step vs none, and the durable checkpoint stall, same run: stall fractions", SnapshotBenchmark.RunAsync),
        ["recovery"] = ("kill -9 / SIGSTOP a stage's silo process: detect, re-place, restore, first step; steps lost", RecoveryBenchmark.RunAsync),
        ["outage"] = ("a 2-stage job whose checkpoint store is down for 30 s mid-run (--outage-seconds): steps trained meanwhile, steps lost, failed, trajectory", Outage.OutageBenchmark.RunAsync),
        ["plan"] = ("pipeline × tensor × data layout and memory per GPU for a model on a fleet (presets: up to ~500B on H100/H200)", PlanCommand.RunAsync),
        ["simulate"] = ("goodput of a 16,384-GPU, 54-day job under the Llama 3 failure mix, by recovery policy (+ PNG chart)", Simulation.SimulateCommand.RunAsync),
        ["fuzz"] = ("hostile checkpoint files, token files, data source paths and job specs for a fixed time: crashes and hangs (> 1 s per input)", Fuzz.FuzzCommand.RunAsync),
        ["scheduler"] = ("placement decisions for 16,384 nodes and 2,048 stages (BenchmarkDotNet)", Scheduling.SchedulerBenchmark.RunAsync),
    };

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" || !s_commands.TryGetValue(args[0], out var command))
        {
            if (args.Length > 0 && args[0] is not ("-h" or "--help"))
                Console.Error.WriteLine($"Unknown benchmark '{args[0]}'.");
            Console.Error.WriteLine("Usage: dotnet run -c Release --project bench/Bench -- <benchmark> [--option value …]");
            foreach (var (name, (summary, _)) in s_commands)
                Console.Error.WriteLine($"  {name,-10} {summary}");
            return args.Length == 0 || args[0] is "-h" or "--help" ? 0 : 2;
        }
        try
        {
            return await command.Run(BenchArguments.Parse(args.AsSpan(1)));
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }
    }
}
