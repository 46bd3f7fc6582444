using System.Globalization;
using Cluster.Grains.Compute;
using Cluster.Grains.Hosting;
using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Scheduling;
using Cluster.Grains.Interfaces.Stages;
using Cluster.Grains.Jobs;
using Cluster.Kernels.Config;
using Orleans.Streams;

namespace Cluster.Bench;

/// <summary>
/// <c>recovery</c>: 3 silo processes on loopback train the demo model on 4 stages (default spec: snapshots every step,
/// checkpoints every 5 here); mid-run a process is killed (<c>kill -9</c>) — or frozen (SIGSTOP) — and the cluster's
/// event stream times each phase from that instant: detected (the first NodeLost or JobRecovering), re-placed, restored,
/// first completed step; plus the completed steps recomputed and the committed ones lost. The victim is, at random
/// (<c>--seed</c>), a stage's host or a host of a snapshot holder only, and the instant a random point of the step: mid-
/// step, right after a step completes (during its snapshot), or right after a durable checkpoint. The worst case is
/// reported beside the median. Each repetition runs a fresh job; the lost silo is restarted in between. A third series
/// hangs a stage's device inside a live process (fault injection through <c>TrainingCluster:ComputeHangDirectory</c>:
/// the process, its sockets and its heartbeats stay up) and reports <c>device_hang_to_step_s</c>, the time from the hang
/// to the first step completed without that device (goal ≤ 5 s, with the hang limit <c>--hang-floor</c>, default 2 s).
/// A fourth fails every operation of a stage's device (a <c>&lt;node&gt;.fail</c> drill file, <see cref="ComputeFault"/>:
/// a GPU with an ECC or Xid error) and reports <c>device_error_to_step_s</c>; the node turns Unhealthy and the scheduler
/// cordons it as flaky, which the benchmark lifts (an operator's uncordon) before the next run.
/// <c>--replicas 2</c> (with <c>--stages 2</c>: 4 stage grains, which still fit the 4 slots left after a silo is lost)
/// runs the job data-parallel, so a lost replica's stages can restore from the holders of rank 0's snapshots or from a
/// surviving replica's live state; the row names the replicas' stages the victim ran.
/// </summary>
internal static class RecoveryBenchmark
{
    private static readonly TimeSpan PhaseTimeout = TimeSpan.FromSeconds(90);

    /// <summary>Device slots left when one of the 3 silo processes (2 slots each) is lost: the most stage grains a recovery can place.</summary>
    private const int SlotsAfterOneLoss = 4;

    public static async Task<int> RunAsync(BenchArguments args)
    {
        int repetitions = args.Int("repetitions", 5);
        int killAfter = args.Int("kill-after", 8);
        int stages = args.Int("stages", 4);
        int replicas = args.Int("replicas", 1);
        int seed = args.Int("seed", 16);
        int hangFloorSeconds = args.Int("hang-floor", 2);
        string failuresArgument = args.String("failures", "kill,stop,device-hang,device-error");
        args.EnsureAllUsed();
        Failure[] failures = [.. failuresArgument.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(f => f switch
        {
            "kill" => Failure.Kill,
            "stop" => Failure.Stop,
            "device-hang" => Failure.DeviceHang,
            "device-error" => Failure.DeviceError,
            _ => throw new ArgumentException($"--failures '{f}': use a comma-separated list of kill, stop, device-hang, device-error."),
        }).Distinct()];
        if (failures.Length == 0) throw new ArgumentException("--failures names no failure: use kill, stop, device-hang and/or device-error.");
        var random = new Random(seed);
        if (repetitions < 1) throw new ArgumentException("--repetitions must be at least 1.");
        if (hangFloorSeconds < 1) throw new ArgumentException("--hang-floor must be at least 1 (seconds).");
        if (replicas < 1) throw new ArgumentException("--replicas must be at least 1.");
        if (stages < 1) throw new ArgumentException("--stages must be at least 1.");
        if (replicas * stages > SlotsAfterOneLoss)
            throw new ArgumentException($"--replicas {replicas} × --stages {stages} = {replicas * stages} stage grains, but after one of the 3 silo processes is lost " +
                $"only {SlotsAfterOneLoss} device slots remain: use --replicas × --stages ≤ {SlotsAfterOneLoss} (e.g. --replicas 2 --stages 2).");

        string root = Path.Combine(Path.GetTempPath(), "cluster-bench", "recovery-" + Guid.NewGuid().ToString("N")[..8]);
        Console.WriteLine($"recovery benchmark — demo model ({DemoPreset.Options().Model.ParameterCount:N0} parameters), {(replicas > 1 ? $"{replicas} replicas × " : "")}{stages} stages on 3 silo processes × 2 CPU slots; " +
                          $"{repetitions} × each of {failuresArgument} (kill -9 or SIGSTOP of a stage's or a snapshot holder's process, a hung stage device with hang limit max(4 × p99, {hangFloorSeconds} s), a stage device failing every operation), " +
                          $"after step {killAfter}, at random points (seed {seed}); {Environment.ProcessorCount} cores; data and logs in {root}");
        string hangDirectory = Path.Combine(root, "hang");
        Directory.CreateDirectory(hangDirectory);
        await using var cluster = await SiloProcessCluster.StartAsync(new SiloProcessClusterOptions
        {
            SiloAssembly = SiloProgram.Locate(typeof(RecoveryBenchmark).Assembly),
            DataRoot = root,
            Settings = [$"--TrainingCluster:ComputeHangDirectory={hangDirectory}", $"--TrainingCluster:DeviceHangFloor=00:00:{hangFloorSeconds:D2}"],
        });
        bool ok = false;
        try
        {
            await cluster.WaitForReadyNodesAsync(6, TimeSpan.FromMinutes(2));
            var events = new EventLog();
            var subscription = await cluster.Client.GetStreamProvider(JobStreams.Provider)
                .GetStream<ClusterEvent>(StreamId.Create(JobStreams.EventsNamespace, JobStreams.EventsKey))
                .SubscribeAsync((e, _) => { events.Add(e); return Task.CompletedTask; });

            var kills = new List<Measurement>();
            var hangs = new List<Measurement>();
            var deviceHangs = new List<Measurement>();
            var deviceErrors = new List<Measurement>();
            Console.WriteLine();
            Console.WriteLine($"{"run",-8} {"victim",-30} {"when",-16} {"step",5} {"ms/step",8} {"detect s",9} {"re-place s",11} {"restore s",10} {"first step s",13} {"recomputed",11} {"committed lost",15}  restored from");
            for (int i = 0; i < failures.Length * repetitions; i++)
            {
                var failure = failures[i / repetitions];
                var point = (KillPoint)random.Next(3);
                // A third of the process failures hit a silo that holds copies, not stages; a device's failure is always a stage's.
                bool holderOnly = random.Next(3) == 0 && failure is Failure.Kill or Failure.Stop;
                var m = await Measure(cluster, events, $"recovery-{failure.ToString().ToLowerInvariant()}-{i % repetitions}-{Guid.NewGuid().ToString("N")[..4]}", stages, replicas, killAfter,
                    failure, point, holderOnly, hangDirectory);
                (failure switch { Failure.Kill => kills, Failure.Stop => hangs, Failure.DeviceHang => deviceHangs, _ => deviceErrors }).Add(m);
                string label = failure switch { Failure.Kill => "kill -9", Failure.Stop => "SIGSTOP", Failure.DeviceHang => "dev-hang", _ => "dev-err" };
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{label,-8} {m.Victim,-30} {m.Point,-16} {m.Step,5} {m.StepMs,8:F0} {m.Detected,9:F2} {m.Replaced,11:F2} {m.Restored,10:F2} {m.FirstStep,13:F2} {m.Recomputed,11} {m.CommittedLost,15}  {m.RestoredFrom}"));
            }
            await subscription.UnsubscribeAsync();

            Console.WriteLine();
            if (kills.Count > 0) Print("kill -9", kills);
            if (hangs.Count > 0) Print("SIGSTOP", hangs);
            if (deviceHangs.Count > 0) Print("device hang", deviceHangs);
            if (deviceErrors.Count > 0) Print("device error", deviceErrors);
            var all = kills.Concat(hangs).Concat(deviceHangs).Concat(deviceErrors).ToList();
            long lost = all.Max(m => m.CommittedLost);
            string Figure(List<Measurement> runs, Func<List<Measurement>, double> value) =>
                runs.Count == 0 ? "n/a" : value(runs).ToString("F2", CultureInfo.InvariantCulture);
            Console.WriteLine();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"RESULT kill_to_step_s={Figure(kills, r => Median(r, m => m.FirstStep))} hang_detect_s={Figure(hangs, r => Median(r, m => m.Detected))} lost_steps={lost} " +
                $"kill_detect_s={Figure(kills, r => Median(r, m => m.Detected))} hang_to_step_s={Figure(hangs, r => Median(r, m => m.FirstStep))} recomputed_steps={all.Max(m => m.Recomputed)} " +
                $"recomputed_steps_median={Median(all, m => m.Recomputed):F1} recomputed_steps_max={all.Max(m => m.Recomputed)} kill_to_step_s_max={Figure(kills, r => r.Max(m => m.FirstStep))} " +
                $"hang_to_step_s_max={Figure(hangs, r => r.Max(m => m.FirstStep))} from_durable={all.Count(m => !RestoredFrom.IsMemory(m.RestoredFrom))} " +
                $"device_hang_to_step_s={Figure(deviceHangs, r => Median(r, m => m.FirstStep))} device_hang_detect_s={Figure(deviceHangs, r => Median(r, m => m.Detected))} " +
                $"device_hang_to_step_s_max={Figure(deviceHangs, r => r.Max(m => m.FirstStep))} device_error_to_step_s={Figure(deviceErrors, r => Median(r, m => m.FirstStep))} " +
                $"device_error_to_step_s_max={Figure(deviceErrors, r => r.Max(m => m.FirstStep))} replicas={replicas} stages={stages}"));
            ok = true;
            return 0;
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException)
        {
            Console.Error.WriteLine($"error: {e.Message}{Environment.NewLine}{cluster.Diagnostics()}");
            return 1;
        }
        finally
        {
            if (ok && Environment.GetEnvironmentVariable("CLUSTER_KEEP_TEST_DATA") != "1")
            {
                await cluster.DisposeAsync();
                try { Directory.Delete(root, recursive: true); } catch (IOException) { }
            }
        }
    }

    /// <summary>
    /// One repetition: a fresh job, a failure at <paramref name="killAfter"/> — a stage's (or a holder's) process
    /// killed or frozen, or a stage's device hung inside its live process — the phases timed.
    /// </summary>
    private static async Task<Measurement> Measure(SiloProcessCluster cluster, EventLog events, string jobId, int stages, int replicas, int killAfter, Failure failure, KillPoint point,
        bool holderOnly, string hangDirectory)
    {
        var options = DemoPreset.Options(killAfter + 40);
        var spec = JobSpecs.FromTrainerOptions(jobId, options, stages, killAfter + 40, checkpointInterval: 5) with { MinReplicas = replicas, MaxReplicas = replicas };
        var job = cluster.Client.GetGrain<ITrainingJobGrain>(jobId);
        // The job grain on silo 1, the victim a stage's silo other than it and the primary (membership lives there).
        string jobHost = cluster.Silos[1].Name;
        await cluster.ActivateOn(jobHost, job.GetStatus);
        await job.Submit(spec);
        var running = await WaitFor(job, s => s.CompletedSteps >= killAfter && s.State == JobState.Running, $"job {jobId} to pass step {killAfter}");
        if (running.Replicas != replicas)
            throw new InvalidOperationException($"Job {jobId} runs {running.Replicas} replica(s), not the {replicas} asked for: the figures would not be of a {replicas}-replica job.");
        var timings = await job.GetStepTimings();
        double stepMs = timings.Count > 0 ? timings.TakeLast(5).Average(t => t.WallMs) : 200;
        switch (point)
        {
            case KillPoint.MidStep:
                // Half a step after one completes, where a training process spends its time.
                await Task.Delay(TimeSpan.FromMilliseconds(stepMs / 2));
                break;
            case KillPoint.DuringSnapshot:
                // The instant a step completes: its snapshot is being taken and handed to the holders.
                long at = (await job.GetStatus()).CompletedSteps;
                await WaitFor(job, s => s.CompletedSteps > at, $"job {jobId} to complete step {at + 1}", pollMs: 1);
                break;
            case KillPoint.AfterCheckpoint:
                // Right after a durable checkpoint of this job (every 5 steps here) is committed.
                long committed = (await job.GetStatus()).LastCheckpointStep ?? 0;
                await WaitFor(job, s => (s.LastCheckpointStep ?? 0) > committed, $"job {jobId} to commit a checkpoint after step {committed}", pollMs: 1);
                break;
        }
        running = await job.GetStatus();
        var stageHosts = running.Placement.Select(p => p.SiloName).ToHashSet();
        var holderHosts = new HashSet<string>();
        for (int s = 0; s < stages; s++)
            if (await cluster.HostOf(cluster.Client.GetGrain<ICheckpointShardGrain>(StageKeys.Shard(jobId, s))) is { } host)
                holderHosts.Add(host);
        bool Eligible(SiloProcess s) => s != cluster.Primary && s.Name != jobHost;
        var victim = (holderOnly ? cluster.Silos.FirstOrDefault(s => Eligible(s) && holderHosts.Contains(s.Name) && !stageHosts.Contains(s.Name)) : null)
            ?? cluster.Silos.FirstOrDefault(s => Eligible(s) && stageHosts.Contains(s.Name))
            ?? throw new InvalidOperationException($"No stage silo to lose besides the primary and the job grain's: {string.Join(", ", running.Placement.Select(p => p.NodeId))}.");
        string ran = string.Join(",", running.Placement.Where(p => p.SiloName == victim.Name).OrderBy(p => p.Replica).ThenBy(p => p.Stage)
            .Select(p => replicas > 1 ? $"r{p.Replica}/s{p.Stage}" : $"s{p.Stage}"));
        string role = (stageHosts.Contains(victim.Name) ? $"stage({ran})" : "") + (holderHosts.Contains(victim.Name) ? "+holder" : "");

        // A hung or failing device: the first stage on the victim's silo; its node hangs at its next device operation,
        // or fails every operation from now on.
        string? deviceNode = failure is Failure.DeviceHang or Failure.DeviceError ? running.Placement.First(p => p.SiloName == victim.Name).NodeId : null;
        string? trigger = deviceNode is null ? null
            : Path.Combine(hangDirectory, failure == Failure.DeviceHang ? ComputeHang.TriggerFileName(deviceNode) : ComputeFault.TriggerFileName(deviceNode));
        if (deviceNode is not null) role = $"{deviceNode[(victim.Name.Length + 1)..]} {(failure == Failure.DeviceHang ? "hung" : "failing")}";

        var failedAt = DateTimeOffset.UtcNow;
        switch (failure)
        {
            case Failure.Kill: victim.Kill(); break;
            case Failure.Stop: victim.Suspend(); break;
            default: await File.WriteAllTextAsync(trigger!, failure == Failure.DeviceHang ? "hang" : "fail"); break;
        }

        var resumed = await events.WaitFor(e => e.JobId == jobId && e.Kind == ClusterEventKind.JobResumed && e.At >= failedAt, PhaseTimeout,
            $"{jobId}: the first step after the failure{Environment.NewLine}{cluster.Diagnostics()}");
        var after = events.Since(failedAt);
        double Seconds(DateTimeOffset at) => (at - failedAt).TotalSeconds;
        var detected = after.Where(e => (e.Kind == ClusterEventKind.NodeLost && e.NodeId?.StartsWith(victim.Name + "/", StringComparison.Ordinal) == true)
                                        || (e.Kind == ClusterEventKind.JobRecovering && e.JobId == jobId)).Min(e => e.At);
        var replaced = after.First(e => e.JobId == jobId && e.Kind == ClusterEventKind.JobReplaced);
        var restored = after.First(e => e.JobId == jobId && e.Kind == ClusterEventKind.JobRestored);
        // Committed work lost: a restore to before the newest checkpoint committed before the failure.
        long committedLost = Math.Max(0, (running.LastCheckpointStep ?? 0) - restored.Step);

        await job.Cancel().WaitAsync(PhaseTimeout);
        if (trigger is not null)
        {
            // The hung operation never returns (a native call cannot be taken back): the silo restarts without the trigger.
            File.Delete(trigger);
        }
        await cluster.RestartAsync(victim);
        await cluster.WaitForReadyNodesAsync(6, TimeSpan.FromMinutes(2));
        // The scheduler cordoned a failing device as flaky until an operator says otherwise: the "repaired" node goes back in.
        if (failure == Failure.DeviceError)
            await cluster.Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default).Uncordon(deviceNode!);
        return new Measurement($"{victim.Name} {role.TrimStart('+')}", point, running.CompletedSteps, stepMs, Seconds(detected), Seconds(replaced.At), Seconds(restored.At), Seconds(resumed.At),
            resumed.StepsLost, committedLost, restored.Message);
    }

    private static async Task<JobStatus> WaitFor(ITrainingJobGrain job, Func<JobStatus, bool> done, string what, int pollMs = 20)
    {
        var deadline = DateTime.UtcNow + PhaseTimeout;
        while (DateTime.UtcNow < deadline)
        {
            var status = await job.GetStatus();
            if (done(status)) return status;
            if (status.State is JobState.Failed or JobState.Cancelled or JobState.Completed)
                throw new InvalidOperationException($"Waiting for {what}, the job ended {status.State}: {status.Error}");
            await Task.Delay(pollMs);
        }
        throw new TimeoutException($"Timed out after {PhaseTimeout.TotalSeconds:F0} s waiting for {what}.");
    }

    private static void Print(string what, List<Measurement> runs) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{what} median of {runs.Count}: detected {Median(runs, m => m.Detected):F2} s, re-placed {Median(runs, m => m.Replaced):F2} s, restored {Median(runs, m => m.Restored):F2} s, " +
            $"first step {Median(runs, m => m.FirstStep):F2} s after the failure; steps recomputed {Median(runs, m => m.Recomputed):F0} (max {runs.Max(m => m.Recomputed)}), committed steps lost max {runs.Max(m => m.CommittedLost)}"));

    private static double Median(List<Measurement> runs, Func<Measurement, double> value) => Cluster.Bench.Median.Of(runs.Select(value));

    private enum Failure
    {
        Kill,
        Stop,
        DeviceHang,
        DeviceError,
    }

    private enum KillPoint
    {
        MidStep,
        DuringSnapshot,
        AfterCheckpoint,
    }

    private sealed record Measurement(string Victim, KillPoint Point, long Step, double StepMs, double Detected, double Replaced, double Restored, double FirstStep,
        long Recomputed, long CommittedLost, string RestoredFrom);
}
