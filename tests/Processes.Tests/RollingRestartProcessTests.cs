using System.Globalization;

namespace Cluster.Processes.Tests;

/// <summary>
/// The most common loss of a fleet is no failure: a rolling update (<c>kubectl rollout restart</c>, <c>systemctl
/// restart</c> host by host). Ten SIGTERMs in a row of random silos that hold the job's stages or its snapshot copies,
/// each at a random moment — part-way through a step, as a step completes, or right after a checkpoint was committed —
/// and each silo started again once it has left. A graceful leave is a move, not a failure (<c>DrainOnShutdown</c>):
/// every silo leaves within its drain timeout and exits 0, the job records no recovery at all, and its losses stay the
/// reference trainer's to the bit. In the first case the coordinator and the scheduler stay on the primary (a dev
/// cluster's membership lives there); in the second their silo leaves too. The seed is printed;
/// <see cref="SeedVariable"/> reruns with another.
/// </summary>
public sealed class RollingRestartProcessTests(ITestOutputHelper output) : ProcessClusterTest
{
    /// <summary>Environment variable that chooses the silos and moments (an integer); <see cref="DefaultSeed"/> without it.</summary>
    public const string SeedVariable = "CLUSTER_ROLLING_SEED";

    private const int DefaultSeed = 6;
    private const int Leaves = 10;
    private const int Stages = 2;
    private const int CheckpointInterval = 10;

    /// <summary>The silos' own drain bound; the test waits a little longer for the process to exit.</summary>
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(60);

    /// <summary>The fleet failure-detection profile, as <see cref="TenKillProcessTests"/>: a loaded 2-core machine must not evict a silo that is only slow.</summary>
    protected override IReadOnlyList<string> SiloSettings =>
        ["--TrainingCluster:FailureDetection=fleet", $"--Shutdown:DrainTimeout={DrainTimeout.ToString("c", CultureInfo.InvariantCulture)}"];

    [Fact]
    public async Task Ten_graceful_leaves_of_random_silos_at_random_moments_cost_the_job_no_recovery()
    {
        var (job, spec, history, told, _) = await LeaveInTurn("rolling", Leaves, controlSilo: null);
        var recoveries = history.Where(e => e.Kind is ClusterEventKind.JobRecovering or ClusterEventKind.JobRestored || e.StepsLost > 0).ToArray();
        Assert.True(recoveries.Length == 0,
            $"graceful leaves made the job recover: {string.Join(" | ", recoveries.Select(e => $"{e.Kind} epoch {e.Epoch} step {e.Step} lost {e.StepsLost}: {e.Message}"))}. {told}{Environment.NewLine}{Diagnostics(spec.JobId)}");
        await AssertReferenceLosses(job, spec, told);
    }

    /// <summary>
    /// The same with the control plane — the job's coordinator and the scheduler — on a silo that leaves (the first
    /// leave is its silo's; each goes wherever its next activation lands). The scheduler rebuilds its view from the
    /// nodes' heartbeats and its saved marks (the leaving silo's drain among them, which ends once it is back). A
    /// coordinator whose silo leaves hands the job over at a step boundary, and the job's next activation carries on from
    /// the stages' live state: one <c>JobCoordinatorMoved</c> per such leave, no recovery at all, no step lost, and the
    /// losses stay the reference's to the bit.
    /// </summary>
    [Fact]
    public async Task Graceful_leaves_that_take_the_coordinators_and_schedulers_silo_cost_no_completed_step()
    {
        var (job, spec, history, told, coordinatorLeaves) = await LeaveInTurn("rolling-coordinator", 6, controlSilo: Cluster.Silos[1].Name);
        Assert.True(coordinatorLeaves >= 1, $"no leave took the coordinator's silo. {told}");
        // Each leave of the coordinator's silo hands the job over at a step boundary: a move, not a recovery.
        var recoveries = history.Where(e => e.Kind is ClusterEventKind.JobRecovering or ClusterEventKind.JobRestored).ToArray();
        Assert.True(recoveries.Length == 0,
            $"{recoveries.Length} recovery event(s) for {coordinatorLeaves} leave(s) of the coordinator's silo: {string.Join(" | ", recoveries.Select(e => $"{e.Kind} epoch {e.Epoch} step {e.Step}: {e.Message}"))}. {told}{Environment.NewLine}{Diagnostics(spec.JobId)}");
        var moved = history.Where(e => e.Kind == ClusterEventKind.JobCoordinatorMoved).ToArray();
        Assert.True(moved.Length == coordinatorLeaves && moved.All(e => e.StepsLost == 0),
            $"{moved.Length} hand-over(s) for {coordinatorLeaves} leave(s) of the coordinator's silo: {string.Join(" | ", moved.Select(e => $"epoch {e.Epoch} step {e.Step} lost {e.StepsLost}: {e.Message}"))}. {told}");
        RecoveryAssert.CostNoCompletedStep(history, told);
        await AssertReferenceLosses(job, spec, told);
    }

    /// <summary>
    /// Submits the job (its coordinator and the scheduler on the primary, or on <paramref name="controlSilo"/>) and makes
    /// <paramref name="leaves"/> silos leave in turn, each at a random moment, each started again once it left; the
    /// first leave is the control silo's when it is not the primary. Returns the job's history after it was
    /// cancelled, the story, and how many leaves took the coordinator's silo.
    /// </summary>
    private async Task<(ITrainingJobGrain Job, JobSpec Spec, ClusterEvent[] History, string Told, int CoordinatorLeaves)> LeaveInTurn(string jobId, int leaves, string? controlSilo)
    {
        int seed = SeedFrom(SeedVariable, DefaultSeed);
        output.WriteLine($"seed {seed} (another: {SeedVariable}=<n>)");
        var random = new Random(seed);
        var spec = TinyJob.Spec(jobId, stages: Stages, steps: 100_000, checkpointInterval: CheckpointInterval) with { SnapshotInterval = 1 };
        var job = await SubmitWithPrimaryKept(spec, "rolling-restart test: stages off the silo that never leaves", controlSilo);

        long last = 0;
        int coordinatorLeaves = 0;
        var story = new List<string>();
        for (int round = 1; round <= leaves; round++)
        {
            string name = $"round {round}";
            await StepsPast(job, last, 3, $"{name}: the job to run 3 steps past step {last}");
            var holders = await HolderHosts(spec.JobId, Stages);
            string? coordinator = await Retry(() => Cluster.HostOf(job));
            string? schedulerHost = await SchedulerHost();
            string moment = await AwaitMoment(job, random.Next(3), random, name);
            var status = await Retry(job.GetStatus);
            Assert.True(status.State is JobState.Running or JobState.Checkpointing, $"{name}: the job is {status.State}: {status.Error}{Environment.NewLine}{Diagnostics(spec.JobId)}");

            var victim = round == 1 && controlSilo is not null ? Cluster.Find(controlSilo)! : Cluster.Silos[1 + random.Next(Cluster.Silos.Count - 1)];
            string role = Role(victim.Name, status, holders) + (victim.Name == coordinator ? ", the coordinator" : "") + (victim.Name == schedulerHost ? ", the scheduler" : "");
            if (victim.Name == coordinator) coordinatorLeaves++;
            long logFrom = victim.LogLength;
            var leftAt = DateTimeOffset.UtcNow;
            int? exit = await victim.TerminateAsync(DrainTimeout + TimeSpan.FromSeconds(30));
            string said = victim.LogSince(logFrom);
            if (said.Length > 12_000) said = "…" + said[^12_000..];
            Assert.True(exit == 0, $"{name}: {victim.Name} ({role}) {(exit is null ? "still ran" : $"exited {exit}")} after SIGTERM.{Environment.NewLine}{said}");
            Assert.True(!said.Contains("leaving anyway", StringComparison.Ordinal) && !said.Contains("Could not drain", StringComparison.Ordinal),
                $"{name}: {victim.Name} ({role}) left without finishing its drain:{Environment.NewLine}{said}");
            double gone = (DateTimeOffset.UtcNow - leftAt).TotalSeconds;

            var after = await StepsPast(job, status.CompletedSteps, 2, $"{name}: the job to run 2 steps after {victim.Name} ({role}) left");
            last = after.CompletedSteps;
            string line = string.Create(CultureInfo.InvariantCulture,
                $"leave {round}: {victim.Name} ({role}) {moment} at step {status.CompletedSteps}, epoch {status.Epoch} (stages {string.Join(", ", status.Placement.Select(p => $"s{p.Stage} on {p.SiloName}"))}; holders {string.Join(", ", holders.Select(h => $"s{h.Key} on {h.Value ?? "none"}"))}): gone in {gone:F1} s, 2 steps later {(DateTimeOffset.UtcNow - leftAt).TotalSeconds:F1} s after SIGTERM, job at step {after.CompletedSteps} epoch {after.Epoch}");
            story.Add(line);
            output.WriteLine(line);

            await RestartUntilReady(victim, name, output.WriteLine);
            await SpreadHolders(spec.JobId, Stages, job, name, output.WriteLine);
        }

        await Retry(job.Cancel);
        return (job, spec, await History(spec.JobId), $"seed {seed}; {string.Join("; ", story)}", coordinatorLeaves);
    }

    private static async Task AssertReferenceLosses(ITrainingJobGrain job, JobSpec spec, string told)
    {
        var losses = await Retry(job.GetLossHistory);
        Assert.True(losses.Count >= 3 * Leaves / 2, $"only {losses.Count} steps ran. {told}");
        Assert.Equal(TinyJob.ReferenceLosses(spec, losses.Count).Select(BitConverter.DoubleToInt64Bits), losses.Select(BitConverter.DoubleToInt64Bits));
    }
}
