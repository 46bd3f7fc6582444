using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Cluster.Grains.Hosting;
using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Streams;

namespace Cluster.Bench.Heartbeats;

/// <summary>
/// <c>heartbeats</c>: control-plane load. One silo; N synthetic node grains heartbeat at 4 Hz into the real scheduler
/// grain (through the silo's health aggregator, and for comparison straight to the scheduler). N rises level by level;
/// a level passes when the p99 heartbeat latency (sent → scheduler's acknowledgement) is under 100 ms, heartbeats
/// arrive at ≥ 95 % of the offered rate, and the scheduler declares no node lost. Goal: ≥ 10,000 nodes on 2 cores.
/// </summary>
internal static class HeartbeatsBenchmark
{
    private const string SiloName = "bench-0";

    public static async Task<int> RunAsync(BenchArguments args)
    {
        string levelsText = args.String("levels", "1000,2000,4000,6000,8000,10000,12000,16000,20000,25000");
        int settleS = args.Int("settle-s", 3), measureS = args.Int("measure-s", 8);
        string mode = args.String("mode", "both");
        args.EnsureAllUsed();
        int[] levels;
        try
        {
            levels = [.. levelsText.Split(',').Select(t => int.Parse(t, NumberStyles.Integer, CultureInfo.InvariantCulture))];
        }
        catch (FormatException)
        {
            throw new ArgumentException($"--levels '{levelsText}': give rising node counts separated by commas, e.g. 1000,5000,10000.");
        }
        if (levels.Length == 0 || levels.Zip(levels.Skip(1)).Any(p => p.Second <= p.First) || levels[0] < 1)
            throw new ArgumentException($"--levels '{levelsText}' must be positive and rising.");
        if (mode is not ("both" or "aggregated" or "direct"))
            throw new ArgumentException($"--mode '{mode}': use aggregated, direct or both.");
        if (measureS < 1)
            throw new ArgumentException("--measure-s must be at least 1.");

        Console.WriteLine($"heartbeats — 1 silo, {Environment.ProcessorCount} cores; synthetic nodes heartbeat every 250 ms into the scheduler; " +
                          $"each level: {settleS} s to settle, {measureS} s measured; pass = p99 < 100 ms, ≥ 95 % delivered, no node declared lost; load = the machine's 1-min load average");
        (int Nodes, double P99)? direct = null, aggregated = null;
        if (mode is "both" or "direct") direct = await RunModeAsync(aggregate: false, levels, settleS, measureS);
        if (mode is "both" or "aggregated") aggregated = await RunModeAsync(aggregate: true, levels, settleS, measureS);

        var headline = aggregated ?? direct!.Value;
        string line = string.Create(CultureInfo.InvariantCulture, $"RESULT max_nodes={headline.Nodes} p99_ms={headline.P99:F1}");
        if (aggregated is not null && direct is { } d)
            line += string.Create(CultureInfo.InvariantCulture, $" direct_max_nodes={d.Nodes} direct_p99_ms={d.P99:F1}");
        Console.WriteLine();
        Console.WriteLine(line);
        return 0;
    }

    /// <summary>The largest passing level and its p99, for one way of sending heartbeats.</summary>
    private static async Task<(int Nodes, double P99)> RunModeAsync(bool aggregate, int[] levels, int settleS, int measureS)
    {
        string dataRoot = Path.Combine(Path.GetTempPath(), "cluster-bench-heartbeats-" + Guid.NewGuid().ToString("N")[..8]);
        using var host = await StartSiloAsync(aggregate, dataRoot);
        try
        {
            var client = host.Services.GetRequiredService<IClusterClient>();
            var aggregator = host.Services.GetRequiredService<SiloHealthAggregator>();
            var recorder = host.Services.GetRequiredService<DirectHeartbeatRecorder>();
            var lost = new ConcurrentQueue<ClusterEvent>();
            var stream = client.GetStreamProvider(JobStreams.Provider).GetStream<ClusterEvent>(StreamId.Create(JobStreams.EventsNamespace, JobStreams.EventsKey));
            var subscription = await stream.SubscribeAsync((e, _) =>
            {
                if (e.Kind == ClusterEventKind.NodeLost && e.NodeId?.Contains("/syn", StringComparison.Ordinal) == true) lost.Enqueue(e);
                return Task.CompletedTask;
            });

            Console.WriteLine();
            Console.WriteLine(aggregate ? "through the per-silo health aggregator (batches every 25 ms):" : "straight to the scheduler grain (one call per heartbeat):");
            Console.WriteLine($"{"nodes",7} {"offered/s",10} {"delivered/s",12} {"batches/s",10} {"p50 ms",8} {"p99 ms",8} {"max ms",8} {"failed",7} {"lost",5} {"load",5}  verdict");
            (int Nodes, double P99) best = (0, 0);
            int started = 0;
            foreach (int level in levels)
            {
                var startTasks = new List<Task>();
                for (; started < level; started++)
                    startTasks.Add(client.GetGrain<ISyntheticNodeGrain>($"{SiloName}/syn{started:D6}").Start(SiloName));
                await Task.WhenAll(startTasks);
                int lostBefore = lost.Count;
                await Task.Delay(TimeSpan.FromSeconds(settleS));
                Take(aggregate, aggregator, recorder);
                var window = System.Diagnostics.Stopwatch.StartNew();
                await Task.Delay(TimeSpan.FromSeconds(measureS));
                var stats = Take(aggregate, aggregator, recorder);
                double seconds = window.Elapsed.TotalSeconds;
                int falseDetections = lost.Count - lostBefore;
                double offered = level * 4.0, delivered = stats.Delivered / seconds;
                bool pass = stats.P99Ms < 100 && delivered >= 0.95 * offered && falseDetections == 0;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{level,7:N0} {offered,10:N0} {delivered,12:N0} {stats.Batches / seconds,10:N1} {stats.P50Ms,8:F1} {stats.P99Ms,8:F1} {stats.MaxMs,8:F1} {stats.Failed,7} {falseDetections,5} {LoadAverage(),5}  {(pass ? "pass" : "FAIL")}"));
                if (!pass) break;
                best = (level, stats.P99Ms);
            }
            await subscription.UnsubscribeAsync();
            return best;
        }
        finally
        {
            await host.StopAsync();
            try
            {
                Directory.Delete(dataRoot, recursive: true);
            }
            catch (IOException)
            {
                // a scratch directory; leaving it behind is harmless
            }
        }
    }

    /// <summary>The machine's 1-minute load average (Linux), to tell a saturated shared machine from a saturated scheduler.</summary>
    private static string LoadAverage()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Split(' ')[0];
        }
        catch (IOException)
        {
            return "?";
        }
        catch (UnauthorizedAccessException)
        {
            return "?";
        }
    }

    private static HeartbeatDeliveryStats Take(bool aggregate, SiloHealthAggregator aggregator, DirectHeartbeatRecorder recorder) =>
        aggregate ? aggregator.TakeStats() : recorder.TakeStats();

    private static async Task<IHost> StartSiloAsync(bool aggregate, string dataRoot)
    {
        var builder = Host.CreateApplicationBuilder(StartupConfiguration.ReadOnce());
        // Overload is what this benchmark looks for; the table reports it. Orleans' own overload warnings (and the
        // timers of thousands of nodes still firing while the silo shuts down) would drown the table.
        builder.Logging.ClearProviders().AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning)
            .AddFilter("Orleans", LogLevel.Critical)
            .AddFilter("Polly", LogLevel.Critical)
            .AddFilter("Microsoft.Extensions.Logging", LogLevel.Critical)
            .AddFilter("Cluster.Grains.Scheduling", LogLevel.Error);
        int[] ports = FreePorts(2);
        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(ports[0], ports[1], null, "cluster-bench", "heartbeats-" + Guid.NewGuid().ToString("N")[..8]);
            silo.Configure<SiloOptions>(o => o.SiloName = SiloName);
            silo.AddTrainingCluster(o =>
            {
                o.DeviceSlots = 1;
                o.ThreadsPerSlot = 1;
                o.DataRoot = dataRoot;
                o.HeartbeatBatchWindow = aggregate ? TimeSpan.FromMilliseconds(25) : TimeSpan.Zero;
            });
            silo.Services.AddSingleton<DirectHeartbeatRecorder>();
        });
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    private static int[] FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToArray();
        foreach (var l in listeners) l.Start();
        int[] ports = [.. listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port)];
        foreach (var l in listeners) l.Stop();
        return ports;
    }
}
