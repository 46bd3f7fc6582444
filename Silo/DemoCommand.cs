using System.Globalization;
using Cluster.Grains.Hosting;
using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Jobs;
using Cluster.Kernels.Config;
using Cluster.Kernels.Data;
using Cluster.Kernels.Training;
using Orleans.Streams;

namespace Cluster.Silo;

/// <summary>
/// <c>demo</c>: starts a local cluster (silos in this process on loopback), submits the demo job — the
/// <see cref="DemoPreset"/> model on the built-in corpus — and shows its progress from the job's progress stream. It
/// leaves a committed checkpoint behind; <c>--verify</c> then re-runs the reference trainer and checks that the
/// cluster's loss trajectory is bit-identical.
/// </summary>
internal static class DemoCommand
{
    private const string Usage = """
        Usage: Cluster.Silo demo [--steps N] [--silos N] [--stages N] [--data synthetic|FILE] [--data-root DIR] [--kill-at STEP] [--verify]
          --steps      optimizer steps (default 300)
          --silos      silos in the local cluster, one device slot each (default 2)
          --stages     pipeline stages (default: one per silo)
          --data       'synthetic' (built-in corpus, default), a text file (bytes) or a nanoGPT uint16 .bin file
          --data-root  where checkpoints and job state go (default runs/demo)
          --kill-at    at this step, take the last silo out of the cluster abruptly and watch the job recover
          --verify     afterwards, train the reference trainer and compare the losses bit for bit
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] is "-h" or "--help")
            {
                Console.WriteLine(Usage);
                return 0;
            }
            if (args[i] == "--verify")
            {
                options["verify"] = "true";
                continue;
            }
            if (args[i] is not ("--steps" or "--silos" or "--stages" or "--data" or "--data-root" or "--kill-at") || i + 1 >= args.Length)
            {
                Console.Error.WriteLine($"Unknown or incomplete option '{args[i]}'.{Environment.NewLine}{Usage}");
                return 2;
            }
            options[args[i][2..]] = args[++i];
        }
        try
        {
            int steps = Count(options, "steps", DemoPreset.Steps, 1);
            int silos = Count(options, "silos", 2, 1);
            int stages = Count(options, "stages", silos, 1);
            string dataRoot = options.GetValueOrDefault("data-root", Path.Combine("runs", "demo"));
            string data = options.GetValueOrDefault("data", TokenSources.Synthetic);
            int killAt = Count(options, "kill-at", 0, 1);
            if (killAt > 0 && silos < 2)
                throw new ArgumentException("--kill-at needs --silos 2 or more: the last silo is the one taken out, silo 0 holds the cluster together.");
            if (killAt >= steps)
                throw new ArgumentException($"--kill-at {killAt} must be below --steps {steps}.");
            return await Run(Spec(steps, stages, data), silos, dataRoot, options.ContainsKey("verify"), killAt);
        }
        catch (Exception e) when (e is ArgumentException or JobSpecInvalidException or ConfigValidationException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }

    private static JobSpec Spec(int steps, int stages, string data) =>
        JobSpecs.FromTrainerOptions($"demo-{DateTime.UtcNow:yyyyMMdd-HHmmss}", DemoPreset.Options(steps), stages, steps, Math.Max(10, steps / 5))
            with { DataSource = data };

    private static async Task<int> Run(JobSpec spec, int silos, string dataRoot, bool verify, int killAt)
    {
        // Each device worker gets its share of the cores: more threads than cores make libtorch spin and crawl.
        int threads = Math.Max(1, Environment.ProcessorCount / silos);
        Console.WriteLine($"Starting a local cluster: {silos} silo(s) × 1 device slot, {threads} thread(s) each; data in {Path.GetFullPath(dataRoot)}");
        // The demo's user names the data file on the command line: its folder becomes a data root beside the data folder.
        string[] dataRoots = spec.DataSource == TokenSources.Synthetic ? [dataRoot] : [dataRoot, Path.GetDirectoryName(Path.GetFullPath(spec.DataSource))!];
        await using var cluster = await LocalCluster.StartAsync(silos, 1, threads, dataRoot, o => o.DataRoots = dataRoots);
        var client = cluster.Client;
        var nodes = await cluster.WaitForNodesAsync(silos, TimeSpan.FromSeconds(60));
        foreach (var node in nodes)
            Console.WriteLine($"  node {node.Capabilities.NodeId}: {node.Capabilities.Device}, {node.Capabilities.GigaflopsMeasured:F1} GFLOP/s measured");

        var m = spec.Model;
        var config = JobSpecs.ToModelConfig(m);
        Console.WriteLine($"Job {spec.JobId}: GPT {m.Layers} layers × d_model {m.DModel}, {m.Heads} heads, context {m.ContextLength}, " +
                          $"{config.ParameterCount:N0} parameters; {spec.Stages} pipeline stages; {spec.MicroBatches} × {spec.MicroBatchSize} sequences per step; {spec.Steps} steps");

        var events = client.GetStreamProvider(JobStreams.Provider).GetStream<ClusterEvent>(StreamId.Create(JobStreams.EventsNamespace, JobStreams.EventsKey));
        var eventSubscription = await events.SubscribeAsync((e, _) =>
        {
            string timing = e.Seconds is { } seconds ? string.Create(CultureInfo.InvariantCulture, $" (+{seconds:F2} s)") : "";
            Console.WriteLine($"  ! {e.At:HH:mm:ss.fff} {e.Kind}{timing}: {e.Message}");
            return Task.CompletedTask;
        });
        var killed = killAt > 0 ? new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) : null;
        Task stopping = Task.CompletedTask;

        var finished = new TaskCompletionSource<JobProgress>(TaskCreationOptions.RunContinuationsAsynchronously);
        long lastShown = -1;
        var stream = client.GetStreamProvider(JobStreams.Provider).GetStream<JobProgress>(StreamId.Create(JobStreams.ProgressNamespace, spec.JobId));
        var subscription = await stream.SubscribeAsync((p, _) =>
        {
            if (p.Message is not null && p.State is not (JobState.Completed or JobState.Failed or JobState.Cancelled))
                Console.WriteLine($"  [{p.State}] {p.Message}");
            if (p.Step != lastShown && (p.Step == 1 || p.Step % 10 == 0 || p.Step == p.TotalSteps) && p.Loss is { } loss)
            {
                lastShown = p.Step;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"step {p.Step,5}/{p.TotalSteps}  loss {loss,7:F4}  {p.TokensPerSecond,8:N0} tok/s  ETA {(p.Eta is { } eta ? eta.ToString(@"m\:ss", CultureInfo.InvariantCulture) : "-")}"));
            }
            if (p.State is JobState.Completed or JobState.Failed or JobState.Cancelled) finished.TrySetResult(p);
            if (killed is not null && p.Step >= killAt && !killed.Task.IsCompleted)
            {
                killed.TrySetResult();
                Console.WriteLine($"  ! {DateTimeOffset.UtcNow:HH:mm:ss.fff} taking silo local-{silos - 1} out of the cluster at step {p.Step} (no drain)");
                stopping = cluster.StopSiloAbruptlyAsync(silos - 1);
            }
            return Task.CompletedTask;
        });

        var job = client.GetGrain<ITrainingJobGrain>(spec.JobId);
        await job.Submit(spec);
        JobStatus status;
        while (true)
        {
            // The stream drives the display; polling is the safety net should an event be missed.
            await Task.WhenAny(finished.Task, Task.Delay(TimeSpan.FromSeconds(2)));
            status = await job.GetStatus();
            if (status.State is JobState.Completed or JobState.Failed or JobState.Cancelled) break;
        }
        await subscription.UnsubscribeAsync();
        await eventSubscription.UnsubscribeAsync();
        await stopping;

        if (status.State != JobState.Completed)
        {
            Console.Error.WriteLine($"Job {spec.JobId} {status.State}: {status.Error}");
            return 1;
        }
        var losses = await job.GetLossHistory();
        var checkpoints = await job.ListCheckpoints();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Done: loss {losses[0]:F4} → {losses[^1]:F4} over {losses.Count} steps."));
        Console.WriteLine($"Placement: {string.Join(", ", status.Placement.Select(p => $"stage {p.Stage} ({p.Units}) on {p.NodeId}"))}");
        if (checkpoints.Count > 0)
            Console.WriteLine($"Committed checkpoints at steps {string.Join(", ", checkpoints.Select(c => c.Step))} in {Path.GetFullPath(Path.Combine(dataRoot, "checkpoints", spec.JobId))}");

        if (verify)
        {
            // The reference runs on the device kind the stages ran on: a CPU reference cannot match CUDA stages bit for bit.
            var deviceOf = nodes.ToDictionary(n => n.Capabilities.NodeId, n => n.Capabilities.Device, StringComparer.Ordinal);
            string device = ReferenceDevice.For([.. status.Placement.Select(p => deviceOf.TryGetValue(p.NodeId, out var d) ? d
                : throw new InvalidOperationException($"Stage {p.Stage} ran on node {p.NodeId}, which was not among the nodes at start."))]);
            Console.WriteLine($"Verifying against the single-process reference trainer on {device} …");
            var options = new TrainerOptions
            {
                Model = config,
                Optimizer = JobSpecs.ToOptimizerConfig(spec.Optimizer, spec.Steps),
                MicroBatchSize = spec.MicroBatchSize,
                MicroBatches = spec.MicroBatches,
                DataSeed = spec.DataSeed,
                Device = device,
                Threads = threads,
            };
            using var reference = new ReferenceTrainer(options, TokenSources.Open(spec.DataSource));
            int mismatch = -1;
            for (int s = 0; s < losses.Count && mismatch < 0; s++)
                if (BitConverter.DoubleToInt64Bits(reference.TrainStep().Loss) != BitConverter.DoubleToInt64Bits(losses[s])) mismatch = s;
            Console.WriteLine(mismatch < 0
                ? $"Bit-identical: all {losses.Count} step losses equal the reference trainer's."
                : $"MISMATCH at step {mismatch}.");
            if (mismatch >= 0) return 1;
        }
        return 0;
    }

    private static int Count(Dictionary<string, string> options, string name, int fallback, int minimum)
    {
        if (!options.TryGetValue(name, out var text)) return fallback;
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value >= minimum
            ? value
            : throw new ArgumentException($"--{name} '{text}' must be an integer ≥ {minimum}.");
    }
}
