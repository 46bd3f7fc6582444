using System.Diagnostics;
using System.Globalization;
using Cluster.Grains.Hosting;
using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Messages;
using Cluster.Grains.Interfaces.Scheduling;
using Cluster.Grains.Jobs;
using Cluster.Kernels.Data;
using Cluster.Kernels.Training;
using Orleans.Runtime;
using Orleans.Streams;

namespace Cluster.Bench.Fleet;

/// <summary>
/// <c>fleet</c>: an elastic low-priority job (1–2 data-parallel replicas) and a high-priority pipeline share an
/// in-process cluster of up to 3 silos (one device slot each) through a scripted run: the elastic job shrinks to make
/// room, grows onto a joining silo, shrinks when a silo dies and grows back. Measures node utilisation, each job's
/// tokens/s and the elastic job's replica changes, and checks both loss trajectories bit for bit against the reference trainer.
/// </summary>
internal static class FleetBenchmark
{
    private static readonly TimeSpan PhaseDeadline = TimeSpan.FromMinutes(4);

    public static async Task<int> RunAsync(BenchArguments args)
    {
        if (args.Has("kill-scheduler"))
            return await KillSchedulerScenario.RunAsync(args);
        int lowSteps = args.Int("low-steps", 1200);
        int highSteps = args.Int("high-steps", 600);
        int sampleMs = args.Int("sample-ms", 250);
        args.EnsureAllUsed();
        if (lowSteps < 100 || highSteps < 50)
            throw new ArgumentException($"--low-steps {lowSteps} / --high-steps {highSteps}: the script needs at least 100 and 50 steps to play out.");
        // The script moves on by progress, not by the clock: each phase lasts a share of the jobs' steps.
        int lowPhase = lowSteps / 20, highPhase = highSteps / 10;

        // fleet-low is elastic: one stage, 1 or 2 data-parallel replicas (4 micro-batches split 4 or 2 + 2). Two is the
        // most the fleet can give it: 3 one-slot nodes, and a count must split the micro-batches into equal blocks.
        // fleet-high has one stage: a pipeline packed onto one node spreads onto a node that joins (scale-up), and would
        // race fleet-low's growth for it, so the script would show a different story each run.
        var low = Spec("fleet-low", stages: 1, lowSteps, priority: 0, team: "batch") with { MinReplicas = 1, MaxReplicas = 2 };
        var high = Spec("fleet-high", stages: 1, highSteps, priority: 10, team: "prod");
        int tokensPerStep = low.MicroBatches * low.MicroBatchSize * low.Model.ContextLength;
        Console.WriteLine($"fleet benchmark — {Environment.ProcessorCount} cores; model {low.Model.Layers} layers × d_model {low.Model.DModel}, context {low.Model.ContextLength}, " +
                          $"{tokensPerStep} tokens/step; job {low.JobId}: {low.Stages} stage × {low.MinReplicas}–{low.MaxReplicas} replicas (elastic), priority {low.Priority}, {low.Steps} steps; " +
                          $"job {high.JobId}: {high.Stages} stage, priority {high.Priority}, {high.Steps} steps; 1 device slot (1 thread) per silo");

        string root = Path.Combine(Path.GetTempPath(), "cluster-bench", "fleet-" + Guid.NewGuid().ToString("N"));
        var clock = Stopwatch.StartNew();
        FleetTimeline timeline;
        UtilisationSampler sampler;
        var finished = new Dictionary<string, JobStatus>();
        var submitted = new Dictionary<string, DateTimeOffset>();
        var losses = new Dictionary<string, IReadOnlyList<double>>();
        try
        {
            await using var cluster = await LocalCluster.StartAsync(2, 1, 1, root, o =>
            {
                o.DeviceGigaflops = 10;                    // calibration is noise on a busy machine: equal speeds, repeatable placement
                o.NodeTimeout = TimeSpan.FromSeconds(5);   // a loaded 2-core machine delays heartbeats; a silo loss shows in membership at once
            });
            await cluster.WaitForNodesAsync(2, TimeSpan.FromSeconds(60));
            var client = cluster.Client;
            timeline = new FleetTimeline(DateTimeOffset.UtcNow);
            var events = client.GetStreamProvider(JobStreams.Provider).GetStream<ClusterEvent>(StreamId.Create(JobStreams.EventsNamespace, JobStreams.EventsKey));
            var subscription = await events.SubscribeAsync((e, _) => timeline.OnEvent(e));
            await using (sampler = new UtilisationSampler(client, [low.JobId, high.JobId], TimeSpan.FromMilliseconds(sampleMs)))
            {
                sampler.Start();
                var lowJob = client.GetGrain<ITrainingJobGrain>(low.JobId);
                var highJob = client.GetGrain<ITrainingJobGrain>(high.JobId);

                timeline.Action("start", "2 silos (local-0, local-1), 2 nodes");
                submitted[low.JobId] = DateTimeOffset.UtcNow;
                await lowJob.Submit(low);
                timeline.Action("submit", $"{low.JobId} (priority {low.Priority}, {low.Stages} stage × {low.MinReplicas}–{low.MaxReplicas} replicas: a replica per node)");
                var lowRunning = await Until(client, lowJob, s => s.State == JobState.Running && s.CompletedSteps >= lowPhase, $"{low.JobId} to pass step {lowPhase}");
                timeline.Action("progress", Progress(lowRunning));

                submitted[high.JobId] = DateTimeOffset.UtcNow;
                await highJob.Submit(high);
                timeline.Action("submit", $"{high.JobId} (priority {high.Priority}, {high.Stages} stage): the fleet is full");
                await Until(client, highJob, s => s.State == JobState.Running && s.CompletedSteps >= highPhase, $"{high.JobId} to run {highPhase} steps");
                var shared = await Task.WhenAll(highJob.GetStatus(), lowJob.GetStatus());
                timeline.Action("progress", Progress(shared));

                int added = await cluster.AddSiloAsync();
                timeline.Action("join", $"silo local-{added} started (3 nodes)");
                // Grows onto the new node at a step boundary (or resumes there, if the arrival preempted it).
                var grown = await Until(client, lowJob, s => s.State == JobState.Running && s.Replicas == low.MaxReplicas && s.CompletedSteps >= shared[1].CompletedSteps + lowPhase,
                    $"{low.JobId} to run {low.MaxReplicas} replicas and {lowPhase} more steps");
                timeline.Action("progress", Progress(await highJob.GetStatus(), grown));

                var (victim, why) = await ChooseSiloToKill(client, cluster, [low.JobId, high.JobId]);
                await cluster.StopSiloAbruptlyAsync(victim);
                timeline.Action("kill", $"silo local-{victim} stopped abruptly ({why})");
                var scheduler = client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);
                // Lost, or unknown to a scheduler that moved with the silo (its node list is soft state).
                await Eventually(async () => !(await scheduler.GetNodes()).Any(n => n.Capabilities.SiloName == $"local-{victim}" && !n.Lost), $"the nodes of local-{victim} to be declared lost", client);
                await Eventually(async () => (await Task.WhenAll(lowJob.GetStatus(), highJob.GetStatus()))
                    .All(s => s.State is JobState.Running or JobState.WaitingForCapacity or JobState.Completed), "both jobs to recover or wait for capacity", client);
                var afterLoss = await Task.WhenAll(highJob.GetStatus(), lowJob.GetStatus());
                timeline.Action("progress", Progress(afterLoss));
                // Run short-handed for a while before the machine comes back.
                var shortHanded = await Until(client, highJob, s => s.CompletedSteps >= afterLoss[0].CompletedSteps + highPhase || s.State == JobState.Completed, $"{high.JobId} to run {highPhase} more steps");
                timeline.Action("progress", Progress(shortHanded, await lowJob.GetStatus()));

                await cluster.RestartSiloAsync(victim);
                timeline.Action("rejoin", $"silo local-{victim} started again");
                var regrown = await Until(client, lowJob, s => s.State == JobState.Completed || (s.State == JobState.Running && s.Replicas == low.MaxReplicas),
                    $"{low.JobId} to run {low.MaxReplicas} replicas again");
                timeline.Action("progress", Progress(await highJob.GetStatus(), regrown));

                foreach (var (job, spec) in new[] { (highJob, high), (lowJob, low) })
                {
                    var done = await Until(client, job, s => s.State is JobState.Completed or JobState.Failed or JobState.Cancelled, $"{spec.JobId} to finish", TimeSpan.FromMinutes(10));
                    finished[spec.JobId] = done;
                    timeline.Action("done", $"{spec.JobId} {done.State} at step {done.CompletedSteps}{(done.Error is null ? "" : $": {done.Error}")}");
                    losses[spec.JobId] = await job.GetLossHistory();
                }
            }
            await subscription.UnsubscribeAsync();
        }
        finally
        {
            try { Directory.Delete(root, recursive: true); } catch (IOException) { }
        }

        Console.WriteLine();
        timeline.Print();
        Console.WriteLine();
        Console.WriteLine("checking both loss trajectories against the reference trainer (single process, same spec)…");
        bool identical = true;
        foreach (var spec in new[] { high, low })
        {
            var expected = ReferenceLosses(spec);
            var actual = losses[spec.JobId];
            int firstDiff = Enumerable.Range(0, Math.Min(expected.Length, actual.Count))
                .FirstOrDefault(i => BitConverter.DoubleToInt64Bits(expected[i]) != BitConverter.DoubleToInt64Bits(actual[i]), -1);
            bool same = actual.Count == expected.Length && firstDiff < 0;
            identical &= same && finished[spec.JobId].State == JobState.Completed;
            Console.WriteLine(same
                ? $"  {spec.JobId}: {actual.Count} losses, bit-identical"
                : $"  {spec.JobId}: {actual.Count} losses vs {expected.Length} expected; first difference at step {(firstDiff < 0 ? Math.Min(actual.Count, expected.Length) + 1 : firstDiff + 1)}");
        }

        double Tps(JobSpec spec) => spec.Steps * (double)tokensPerStep / (finished[spec.JobId].UpdatedAt - submitted[spec.JobId]).TotalSeconds;
        Console.WriteLine();
        Console.WriteLine($"{"job",-11} {"priority",8} {"steps",6} {"wall s",7} {"tokens/s",9}");
        foreach (var spec in new[] { high, low })
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{spec.JobId,-11} {spec.Priority,8} {spec.Steps,6} {(finished[spec.JobId].UpdatedAt - submitted[spec.JobId]).TotalSeconds,7:F1} {Tps(spec),9:F0}"));
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"node utilisation {sampler.Utilisation:P1} ({sampler.BusyNodeSeconds:F0} of {sampler.UpNodeSeconds:F0} node-seconds ran stages of a Running job; {sampler.Samples} samples); run {clock.Elapsed.TotalSeconds:F0} s; load average {LoadAverage()}"));
        Console.WriteLine($"{low.JobId}: at most {sampler.MaxReplicas(low.JobId)} replica(s) running at once, {timeline.ReplicaChanges(low.JobId)} replica count change(s); " +
                          $"{high.JobId}: {timeline.ReplicaChanges(high.JobId)} change(s)");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT scenario=default utilisation={sampler.Utilisation:F3} tokens_per_s_high={Tps(high):F0} tokens_per_s_low={Tps(low):F0} double_booked={sampler.DoubleBooked} identical={(identical ? "true" : "false")} " +
            $"replicas_max_low={sampler.MaxReplicas(low.JobId)} replica_changes_low={timeline.ReplicaChanges(low.JobId)}"));
        return identical && sampler.DoubleBooked == 0 ? 0 : 1;
    }

    /// <summary>A progress line: each job's state, step and replicas.</summary>
    private static string Progress(params JobStatus[] statuses) =>
        string.Join("; ", statuses.Select(s => $"{s.JobId} {s.State} at step {s.CompletedSteps}, {s.Replicas} replica(s)"));

    /// <summary>The fleet scenarios' tiny GPT job (one per scenario role; priority, team and replicas vary).</summary>
    internal static JobSpec Spec(string jobId, int stages, int steps, int priority = 0, string team = "default") => new()
    {
        JobId = jobId,
        Model = new ModelSpec { VocabSize = 256, ContextLength = 32, DModel = 64, Layers = 2, Heads = 4, MlpRatio = 4, Seed = 2024 },
        Optimizer = new OptimizerSpec { LearningRate = 3e-3, MinLearningRate = 3e-4, WarmupSteps = 5, ClipNorm = 1.0 },
        Stages = stages,
        MicroBatches = 4,
        MicroBatchSize = 4,
        Steps = steps,
        CheckpointInterval = 50,
        KeepCheckpoints = 2,
        DataSource = TokenSources.Synthetic,
        DataSeed = 7,
        Priority = priority,
        Team = team,
    };

    /// <summary>The reference trainer's losses, with the options the cluster runs the spec with (one thread, like a device slot here).</summary>
    internal static double[] ReferenceLosses(JobSpec spec)
    {
        using var trainer = new ReferenceTrainer(JobSpecs.ToTrainerOptions(spec, threads: 1), TokenSources.Open(spec.DataSource));
        return [.. Enumerable.Range(0, spec.Steps).Select(_ => trainer.TrainStep().Loss)];
    }

    /// <summary>
    /// A silo (not the primary) that runs a stage, preferring the high-priority job's, and not the one hosting the
    /// scheduler (its state is soft: losing it is another story than losing a node).
    /// </summary>
    private static async Task<(int Index, string Why)> ChooseSiloToKill(IClusterClient client, LocalCluster cluster, IReadOnlyList<string> jobsByPreference)
    {
        var management = client.GetGrain<IManagementGrain>(0);
        var schedulerAt = await management.GetActivationAddress(client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default));
        var hosts = await management.GetDetailedHosts(onlyActive: true);
        string? schedulerSilo = hosts.FirstOrDefault(h => h.SiloAddress.Equals(schedulerAt))?.SiloName;
        var nodes = await client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default).GetNodes();
        foreach (string jobId in jobsByPreference)
        {
            foreach (var node in nodes.Where(n => n.Stages.Any(s => s.StartsWith(jobId + "/", StringComparison.Ordinal))))
            {
                string silo = node.Capabilities.SiloName;
                int index = int.Parse(silo["local-".Length..], CultureInfo.InvariantCulture);
                if (index > 0 && index < cluster.Silos.Count && silo != schedulerSilo)
                    return (index, $"it runs {string.Join(", ", node.Stages)}; the scheduler is on {schedulerSilo ?? "?"}");
            }
        }
        throw new InvalidOperationException($"No silo other than local-0 and the scheduler's ({schedulerSilo}) runs a stage: nothing to kill.");
    }

    private static async Task<JobStatus> Until(IClusterClient client, ITrainingJobGrain job, Func<JobStatus, bool> done, string what, TimeSpan? deadline = null)
    {
        var clock = Stopwatch.StartNew();
        var report = TimeSpan.FromSeconds(15);
        while (true)
        {
            var status = await job.GetStatus();
            if (done(status)) return status;
            if (status.State is JobState.Failed or JobState.Cancelled)
                throw new InvalidOperationException($"Waiting for {what}: job {status.JobId} is {status.State}: {status.Error}");
            if (clock.Elapsed > (deadline ?? PhaseDeadline))
                throw new TimeoutException($"Waited {clock.Elapsed.TotalSeconds:F0} s for {what}; job {status.JobId} is {status.State} at step {status.CompletedSteps}: {status.Error}; nodes: {await Describe(client)}");
            if (clock.Elapsed > report)
            {
                report += TimeSpan.FromSeconds(15);
                Console.WriteLine($"  … still waiting for {what}: {status.JobId} is {status.State} at step {status.CompletedSteps}, {status.Replicas} replica(s){(status.Error is null ? "" : $" ({status.Error})")}; nodes: {await Describe(client)}");
            }
            await Task.Delay(100);
        }
    }

    private static async Task Eventually(Func<Task<bool>> condition, string what, IClusterClient client)
    {
        var clock = Stopwatch.StartNew();
        var report = TimeSpan.FromSeconds(15);
        while (!await condition())
        {
            if (clock.Elapsed > report)
            {
                report += TimeSpan.FromSeconds(15);
                Console.WriteLine($"  … still waiting for {what}: {await Describe(client)}");
            }
            if (clock.Elapsed > PhaseDeadline) throw new TimeoutException($"Waited {clock.Elapsed.TotalSeconds:F0} s for {what}: {await Describe(client)}");
            await Task.Delay(100);
        }
    }

    /// <summary>The nodes and their stages as the scheduler sees them, for a message about a wait that takes long.</summary>
    private static async Task<string> Describe(IClusterClient client) =>
        string.Join("; ", (await client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default).GetNodes())
            .Select(n => string.Create(CultureInfo.InvariantCulture,
                $"{n.Capabilities.NodeId} {n.Health?.State.ToString() ?? "no heartbeat"}{(n.Lost ? " lost" : "")}, heard {(DateTimeOffset.UtcNow - n.LastHeartbeatAt)?.TotalSeconds:F1} s ago [{string.Join(" ", n.Stages)}]")));

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
