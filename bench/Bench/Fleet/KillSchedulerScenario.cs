using System.Diagnostics;
using System.Globalization;
using Cluster.Grains.Hosting;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Messages;
using Cluster.Grains.Interfaces.Scheduling;
using Cluster.Grains.Jobs;
using Cluster.Kernels.Data;
using Cluster.Kernels.Training;
using Orleans.Core.Internal;
using Orleans.Runtime;
using Orleans.Runtime.Placement;

namespace Cluster.Bench.Fleet;

/// <summary>
/// <c>fleet --kill-scheduler</c> (issue 13): 4 silos × 1 slot; two jobs run (3 nodes) and a third, a gang of 2 replicas,
/// waits for nodes; the silo hosting the scheduler (moved to the fourth silo; it may run a stage too) stops abruptly. The
/// scheduler activates elsewhere and must rebuild its table from the jobs before admitting anything: the waiting job
/// must not land on a node a running job holds. Samples the most jobs seen on one node (<c>double_booked</c>) and checks
/// every trajectory bit for bit against the reference trainer (<c>identical</c>).
/// </summary>
internal static class KillSchedulerScenario
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(5);

    public static async Task<int> RunAsync(BenchArguments args)
    {
        int steps = args.Int("steps", 300);
        int sampleMs = args.Int("sample-ms", 100);
        args.EnsureAllUsed();
        if (steps < 30)
            throw new ArgumentException($"--steps {steps}: the scenario needs at least 30 steps to kill the scheduler mid-run.");
        JobSpec[] specs =
        [
            Spec("ks-a", stages: 2, steps, minReplicas: 1),
            Spec("ks-b", stages: 1, steps, minReplicas: 1),
            Spec("ks-waiting", stages: 1, Math.Max(30, steps / 3), minReplicas: 2), // a gang of 2 nodes: 1 is free, so it waits
        ];
        Console.WriteLine($"fleet --kill-scheduler — {Environment.ProcessorCount} cores; 4 silos × 1 slot; jobs ks-a (2 stages), ks-b (1 stage) run {steps} steps, " +
                          $"ks-waiting (2 replicas, a gang) waits; the scheduler's silo stops abruptly");
        string root = Path.Combine(Path.GetTempPath(), "cluster-bench", "fleet-ks-" + Guid.NewGuid().ToString("N"));
        var clock = Stopwatch.StartNew();
        var finished = new JobStatus[specs.Length];
        var losses = new IReadOnlyList<double>[specs.Length];
        UtilisationSampler sampler;
        double waitedAfterKill;
        try
        {
            await using var cluster = await LocalCluster.StartAsync(4, 1, 1, root, o =>
            {
                o.DeviceGigaflops = 10;
                o.NodeTimeout = TimeSpan.FromSeconds(5);
            });
            await cluster.WaitForNodesAsync(4, TimeSpan.FromSeconds(60));
            var client = cluster.Client;
            var scheduler = client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);
            var jobs = specs.Select(s => client.GetGrain<ITrainingJobGrain>(s.JobId)).ToArray();
            foreach (var job in jobs) await job.GetStatus();
            await MoveSchedulerTo(client, "local-3");
            Console.WriteLine("  scheduler moved to local-3");
            await using (sampler = new UtilisationSampler(client, [.. specs.Select(s => s.JobId)], TimeSpan.FromMilliseconds(sampleMs)))
            {
                sampler.Start();
                await jobs[0].Submit(specs[0]);
                await Until(jobs[0], s => s.State == JobState.Running && s.CompletedSteps >= 5, "ks-a to run");
                await jobs[1].Submit(specs[1]);
                await Until(jobs[1], s => s.State == JobState.Running && s.CompletedSteps >= 5, "ks-b to run");
                await jobs[2].Submit(specs[2]);
                await Until(jobs[2], s => s.State == JobState.WaitingForCapacity, "ks-waiting to wait for nodes");
                var before = await Task.WhenAll(jobs.Select(j => j.GetStatus()));
                Console.WriteLine($"  before: {Progress(before)}");

                var killedAt = Stopwatch.StartNew();
                await cluster.StopSiloAbruptlyAsync(3);
                Console.WriteLine($"  {killedAt.Elapsed.TotalSeconds:F1} s: silo local-3 (the scheduler's) stopped abruptly");
                var started = await Until(jobs[2], s => s.State is JobState.Running or JobState.Completed, "ks-waiting to be placed");
                waitedAfterKill = killedAt.Elapsed.TotalSeconds;
                var others = await Task.WhenAll(jobs.Take(2).Select(j => j.GetStatus()));
                Console.WriteLine($"  {waitedAfterKill:F1} s: ks-waiting placed ({string.Join(", ", started.Placement.Select(p => p.NodeId))}); {Progress(others)}");
                for (int i = 0; i < jobs.Length; i++)
                {
                    finished[i] = await Until(jobs[i], s => s.State is JobState.Completed or JobState.Failed or JobState.Cancelled, $"{specs[i].JobId} to finish");
                    losses[i] = await jobs[i].GetLossHistory();
                    Console.WriteLine($"  {specs[i].JobId} {finished[i].State} at step {finished[i].CompletedSteps}, epoch {finished[i].Epoch}");
                }
            }
        }
        finally
        {
            try { Directory.Delete(root, recursive: true); } catch (IOException) { }
        }

        bool identical = true;
        for (int i = 0; i < specs.Length; i++)
        {
            double[] expected = FleetBenchmark.ReferenceLosses(specs[i]);
            bool same = finished[i].State == JobState.Completed && expected.Select(BitConverter.DoubleToInt64Bits).SequenceEqual(losses[i].Select(BitConverter.DoubleToInt64Bits));
            identical &= same;
            Console.WriteLine($"  {specs[i].JobId}: {losses[i].Count} losses, {(same ? "bit-identical" : "DIFFERENT from the reference")}");
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"most jobs seen on one node: {sampler.MostJobsOnOneNode} ({sampler.Samples} samples); run {clock.Elapsed.TotalSeconds:F0} s"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT scenario=kill-scheduler double_booked={sampler.DoubleBooked} identical={(identical ? "true" : "false")} waiting_placed_after_kill_s={waitedAfterKill:F1} samples={sampler.Samples}"));
        return identical && sampler.DoubleBooked == 0 ? 0 : 1;
    }

    /// <summary>Migrates the scheduler's activation to the named silo and waits until it is there.</summary>
    private static async Task MoveSchedulerTo(IClusterClient client, string siloName)
    {
        var scheduler = client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);
        var management = client.GetGrain<IManagementGrain>(0);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            await scheduler.GetNodes();
            var hosts = await management.GetDetailedHosts(onlyActive: true);
            var target = hosts.First(h => h.SiloName == siloName).SiloAddress;
            if (Equals(await management.GetActivationAddress(scheduler), target)) return;
            if (clock.Elapsed > TimeSpan.FromSeconds(90)) throw new TimeoutException($"The scheduler did not move to {siloName}.");
            RequestContext.Set(IPlacementDirector.PlacementHintKey, target);
            try
            {
                await scheduler.AsReference<IGrainManagementExtension>().MigrateOnIdle();
            }
            finally
            {
                RequestContext.Remove(IPlacementDirector.PlacementHintKey);
            }
            await Task.Delay(200);
        }
    }

    private static async Task<JobStatus> Until(ITrainingJobGrain job, Func<JobStatus, bool> done, string what)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            JobStatus status;
            try
            {
                status = await job.GetStatus();
            }
            catch (Exception e) when (e is OrleansException or TimeoutException && clock.Elapsed < Deadline)
            {
                await Task.Delay(200); // the job grain's silo may be the one that stopped
                continue;
            }
            if (done(status)) return status;
            if (status.State is JobState.Failed or JobState.Cancelled)
                throw new InvalidOperationException($"Waiting for {what}: job {status.JobId} is {status.State}: {status.Error}");
            if (clock.Elapsed > Deadline)
                throw new TimeoutException($"Waited {clock.Elapsed.TotalSeconds:F0} s for {what}; job {status.JobId} is {status.State} at step {status.CompletedSteps}: {status.Error}");
            await Task.Delay(100);
        }
    }

    private static string Progress(IEnumerable<JobStatus> statuses) =>
        string.Join("; ", statuses.Select(s => $"{s.JobId} {s.State} at step {s.CompletedSteps} on {string.Join(",", s.Placement.Select(p => p.NodeId).Distinct())}"));

    private static JobSpec Spec(string jobId, int stages, int steps, int minReplicas) =>
        FleetBenchmark.Spec(jobId, stages, steps) with { MinReplicas = minReplicas, MaxReplicas = minReplicas };
}
