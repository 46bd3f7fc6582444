using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Cluster.Grains.Checkpoints;
using Cluster.Grains.Hosting;
using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Messages;
using Cluster.Grains.Jobs;
using Cluster.Kernels.Data;
using Cluster.Kernels.Training;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using Orleans.Streams;

namespace Cluster.Bench.Outage;

/// <summary>
/// <c>outage</c>: a 2-stage job on an in-process cluster of 2 silos whose checkpoint store (one, shared) refuses every
/// call for <c>--outage-seconds</c> once the job has committed two checkpoints. Measures the steps trained while the
/// store was down, the steps recomputed by recoveries and whether the job ended failed, and checks the loss trajectory
/// bit for bit against the reference trainer.
/// </summary>
internal static class OutageBenchmark
{
    private const int CheckpointInterval = 10;
    private static readonly TimeSpan s_deadline = TimeSpan.FromMinutes(10);

    public static async Task<int> RunAsync(BenchArguments args)
    {
        int outageSeconds = args.Int("outage-seconds", 30);
        int steps = args.Int("steps", 400);
        args.EnsureAllUsed();
        if (outageSeconds < 1)
            throw new ArgumentException($"--outage-seconds {outageSeconds}: an outage lasts at least 1 s.");
        if (steps < 4 * CheckpointInterval)
            throw new ArgumentException($"--steps {steps}: the job needs at least {4 * CheckpointInterval} steps (checkpoints every {CheckpointInterval}) for the outage to fall mid-run.");

        var spec = Spec(steps);
        var outage = new StoreOutage();
        Console.WriteLine($"outage benchmark — {Environment.ProcessorCount} cores; model {spec.Model.Layers} layers × d_model {spec.Model.DModel}; job {spec.JobId}: " +
                          $"{spec.Stages} stages on 2 silos, {spec.Steps} steps, checkpoint every {spec.CheckpointInterval}; the checkpoint store refuses every call for {outageSeconds} s " +
                          $"from the commit of step {2 * CheckpointInterval}");

        string root = Path.Combine(Path.GetTempPath(), "cluster-bench", "outage-" + Guid.NewGuid().ToString("N"));
        var clock = Stopwatch.StartNew();
        var events = new ConcurrentQueue<ClusterEvent>();
        JobStatus before, healed, done;
        IReadOnlyList<double> losses;
        var statesDuringOutage = new SortedSet<JobState>();
        try
        {
            await using var cluster = await LocalCluster.StartAsync(2, 1, 1, root,
                o => o.DeviceGigaflops = 10, // equal speeds: repeatable placement, one stage per silo
                silo => silo.Services.AddSingleton<ICheckpointStore>(sp => new OutageCheckpointStore(
                    new FileSystemCheckpointStore(sp.GetRequiredService<IOptions<TrainingClusterOptions>>().Value.ResolvedCheckpointPath,
                        sp.GetService<ILogger<FileSystemCheckpointStore>>()), outage)));
            await cluster.WaitForNodesAsync(2, TimeSpan.FromSeconds(60));
            var client = cluster.Client;
            var stream = client.GetStreamProvider(JobStreams.Provider).GetStream<ClusterEvent>(StreamId.Create(JobStreams.EventsNamespace, JobStreams.EventsKey));
            var subscription = await stream.SubscribeAsync((e, _) =>
            {
                if (e.JobId == spec.JobId) events.Enqueue(e);
                return Task.CompletedTask;
            });

            var job = client.GetGrain<ITrainingJobGrain>(spec.JobId);
            await job.Submit(spec);
            before = await Until(job, s => s.LastCheckpointStep >= 2 * CheckpointInterval, $"the checkpoint at step {2 * CheckpointInterval} to commit");
            var downAt = clock.Elapsed;
            outage.Begin();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{downAt.TotalSeconds,6:F1} s] store down: job {before.State} at step {before.CompletedSteps}, last checkpoint {before.LastCheckpointStep}"));
            var report = TimeSpan.FromSeconds(5);
            var current = before;
            while (clock.Elapsed - downAt < TimeSpan.FromSeconds(outageSeconds))
            {
                current = await job.GetStatus();
                statesDuringOutage.Add(current.State);
                if (clock.Elapsed - downAt >= report)
                {
                    report += TimeSpan.FromSeconds(5);
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"[{clock.Elapsed.TotalSeconds,6:F1} s]   {current.State} at step {current.CompletedSteps}, last durable checkpoint {current.LastCheckpointStep}"));
                }
                await Task.Delay(100);
            }
            healed = await job.GetStatus();
            outage.End();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"[{clock.Elapsed.TotalSeconds,6:F1} s] store back: job {healed.State} at step {healed.CompletedSteps}, last durable checkpoint {healed.LastCheckpointStep}; {outage.Refused} store calls refused"));
            if (healed.State is JobState.Completed)
                throw new InvalidOperationException($"The job finished during the outage: give it more --steps than {steps} so the outage falls mid-run.");

            var healedAt = clock.Elapsed;
            var next = await Until(job, s => s.CompletedSteps > healed.CompletedSteps || s.State is JobState.Completed, "the first step after the store came back");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"[{clock.Elapsed.TotalSeconds,6:F1} s] step {next.CompletedSteps} completed {(clock.Elapsed - healedAt).TotalSeconds:F1} s after the store came back ({next.State}, last durable checkpoint {next.LastCheckpointStep})"));

            done = await Until(job, s => s.State is JobState.Completed or JobState.Failed or JobState.Cancelled, "the job to finish");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"[{clock.Elapsed.TotalSeconds,6:F1} s] job {done.State} at step {done.CompletedSteps}, last checkpoint {done.LastCheckpointStep}, epoch {done.Epoch}{(done.Error is null ? "" : ": " + done.Error)}"));
            losses = await job.GetLossHistory();
            await subscription.UnsubscribeAsync();
        }
        finally
        {
            try { Directory.Delete(root, recursive: true); } catch (IOException) { }
        }

        Console.WriteLine();
        Console.WriteLine("events of the job:");
        foreach (var e in events)
            Console.WriteLine($"  {e.At:HH:mm:ss.f} {e.Kind} epoch {e.Epoch} step {e.Step}{(e.StepsLost > 0 ? $" lost {e.StepsLost}" : "")}: {e.Message}");
        var expected = ReferenceLosses(spec);
        int firstDiff = Enumerable.Range(0, Math.Min(expected.Length, losses.Count))
            .FirstOrDefault(i => BitConverter.DoubleToInt64Bits(expected[i]) != BitConverter.DoubleToInt64Bits(losses[i]), -1);
        bool identical = losses.Count == expected.Length && firstDiff < 0 && done.State == JobState.Completed;
        Console.WriteLine(identical
            ? $"trajectory: {losses.Count} losses, bit-identical to the reference trainer"
            : $"trajectory: {losses.Count} losses vs {expected.Length} expected; first difference at step {(firstDiff < 0 ? Math.Min(losses.Count, expected.Length) + 1 : firstDiff + 1)}");

        int failed = done.State == JobState.Failed ? 1 : 0;
        long lostSteps = events.Where(e => e.Kind == ClusterEventKind.JobResumed).Sum(e => e.StepsLost);
        int recoveries = events.Count(e => e.Kind == ClusterEventKind.JobRecovering);
        long stepsDuringOutage = healed.CompletedSteps - before.CompletedSteps;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"states seen during the outage: {string.Join(", ", statesDuringOutage)}; recoveries {recoveries}; run {clock.Elapsed.TotalSeconds:F0} s; load average {LoadAverage()}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT identical={(identical ? "true" : "false")} failed={failed} lost_steps={lostSteps} steps_during_outage={stepsDuringOutage} outage_s={outageSeconds}"));
        return identical && failed == 0 && lostSteps == 0 && stepsDuringOutage > 0 ? 0 : 1;
    }

    private static JobSpec Spec(int steps) => new()
    {
        JobId = "outage",
        Model = new ModelSpec { VocabSize = 256, ContextLength = 32, DModel = 64, Layers = 2, Heads = 4, MlpRatio = 4, Seed = 2024 },
        Optimizer = new OptimizerSpec { LearningRate = 3e-3, MinLearningRate = 3e-4, WarmupSteps = 5, ClipNorm = 1.0 },
        Stages = 2,
        MicroBatches = 4,
        MicroBatchSize = 4,
        Steps = steps,
        CheckpointInterval = CheckpointInterval,
        KeepCheckpoints = 2,
        DataSource = TokenSources.Synthetic,
        DataSeed = 7,
    };

    /// <summary>The reference trainer's losses, with the options the cluster runs the spec with (one thread, like a device slot here).</summary>
    private static double[] ReferenceLosses(JobSpec spec)
    {
        using var trainer = new ReferenceTrainer(JobSpecs.ToTrainerOptions(spec, threads: 1), TokenSources.Open(spec.DataSource));
        return [.. Enumerable.Range(0, spec.Steps).Select(_ => trainer.TrainStep().Loss)];
    }

    private static async Task<JobStatus> Until(ITrainingJobGrain job, Func<JobStatus, bool> done, string what)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var status = await job.GetStatus();
            if (done(status)) return status;
            if (status.State is JobState.Failed or JobState.Cancelled)
                throw new InvalidOperationException($"Waiting for {what}: job {status.JobId} is {status.State}: {status.Error}");
            if (clock.Elapsed > s_deadline)
                throw new TimeoutException($"Waited {clock.Elapsed.TotalSeconds:F0} s for {what}; job {status.JobId} is {status.State} at step {status.CompletedSteps}: {status.Error}");
            await Task.Delay(100);
        }
    }

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
    }
}
