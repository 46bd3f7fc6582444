using System.Globalization;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Perfolizer.Horology;

namespace Cluster.Bench.Scheduling;

/// <summary>
/// <c>scheduler</c>: the <see cref="PlacementBenchmarks"/> suite under BenchmarkDotNet, in this process (no child
/// build) with a short job so that it finishes in about a minute. Goal: ≤ 10 ms per decision.
/// </summary>
internal static class SchedulerBenchmark
{
    public static Task<int> RunAsync(BenchArguments args)
    {
        int iterations = args.Int("iterations", 10);
        int warmup = args.Int("warmup", 3);
        int iterationMs = args.Int("iteration-ms", 250);
        args.EnsureAllUsed();
        if (iterations < 3)
            throw new ArgumentException("--iterations must be at least 3 for a mean and an error.");

        var job = Job.Default
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithLaunchCount(1)
            .WithWarmupCount(warmup)
            .WithIterationCount(iterations)
            .WithIterationTime(TimeInterval.FromMilliseconds(Math.Max(50, iterationMs)));
        var config = ManualConfig.CreateEmpty()
            .AddJob(job)
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddColumnProvider(DefaultColumnProviders.Instance)
            .AddLogger(ConsoleLogger.Default)
            .WithArtifactsPath(Path.Combine(Path.GetTempPath(), "cluster-bench-scheduler"));
        var summary = BenchmarkRunner.Run<PlacementBenchmarks>(config);
        if (summary.HasCriticalValidationErrors || summary.Reports.Any(r => r.ResultStatistics is null))
        {
            Console.Error.WriteLine("The benchmark did not run (see the validation errors above; run it with -c Release).");
            return Task.FromResult(1);
        }

        double Ms(string method) => Report(summary, method).ResultStatistics!.Mean / 1e6;
        double Kb(string method) => (Report(summary, method).GcStats.GetBytesAllocatedPerOperation(Report(summary, method).BenchmarkCase) ?? 0) / 1024.0;
        var methods = new[] { nameof(PlacementBenchmarks.Initial), nameof(PlacementBenchmarks.InitialUnsorted), nameof(PlacementBenchmarks.After1), nameof(PlacementBenchmarks.After8), nameof(PlacementBenchmarks.After64) };
        double worst = methods.Max(Ms);
        Console.WriteLine();
        Console.WriteLine($"16,384 nodes, 2,048 stages: worst decision {worst:F2} ms — goal ≤ 10 ms {(worst <= 10 ? "met" : "NOT met")}");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT place_ms={Ms(methods[0]):F2} place_unsorted_ms={Ms(methods[1]):F2} replace1_ms={Ms(methods[2]):F2} replace8_ms={Ms(methods[3]):F2} " +
            $"replace64_ms={Ms(methods[4]):F2} alloc_kb={Kb(methods[0]):F0} replace64_alloc_kb={Kb(methods[4]):F0}"));
        return Task.FromResult(0);
    }

    private static BenchmarkReport Report(Summary summary, string method) =>
        summary.Reports.Single(r => r.BenchmarkCase.Descriptor.WorkloadMethod.Name == method);
}
