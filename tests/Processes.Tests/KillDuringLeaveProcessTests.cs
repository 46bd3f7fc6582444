using System.Diagnostics;
using System.Globalization;

namespace Cluster.Processes.Tests;

/// <summary>
/// A graceful leave is no failure, so a single failure during one must cost no completed step either: four silo
/// processes; in each round one silo is sent SIGTERM at a random moment of the step and, at a random moment of its
/// leave — while its stages are drained, its snapshot holders move with their copies, or its grains are deactivated —
/// another silo that holds a stage or a snapshot copy is killed with <c>kill -9</c>. The leaving silo must still exit 0,
/// every recovery must restore from memory with no completed step recomputed, and the losses must stay the reference
/// trainer's to the bit. Both are started again before the next round. The seed is printed; <see cref="SeedVariable"/>
/// reruns with another.
/// </summary>
public sealed class KillDuringLeaveProcessTests(ITestOutputHelper output) : ProcessClusterTest
{
    /// <summary>Environment variable that chooses the silos and moments (an integer); <see cref="DefaultSeed"/> without it.</summary>
    public const string SeedVariable = "CLUSTER_KILL_DURING_LEAVE_SEED";

    private const int DefaultSeed = 3;
    private const int Rounds = 6;
    private const int Stages = 2;

    /// <summary>The kill comes this long after the SIGTERM at most: a leave of a silo that holds a stage or a copy took 1.1–3.8 s here.</summary>
    private static readonly TimeSpan LatestKill = TimeSpan.FromSeconds(1.5);

    /// <summary>The silos' own drain bound; the test waits a little longer for the process to exit.</summary>
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(60);

    /// <summary>The primary (never lost) and three silos to leave and lose: a leave and a kill still leave one for the stages.</summary>
    protected override int Silos => 4;

    /// <summary>The fleet failure-detection profile, as <see cref="TenKillProcessTests"/>: a loaded 2-core machine must not evict a silo that is only slow.</summary>
    protected override IReadOnlyList<string> SiloSettings =>
        ["--TrainingCluster:FailureDetection=fleet", $"--Shutdown:DrainTimeout={DrainTimeout.ToString("c", CultureInfo.InvariantCulture)}"];

    [Fact]
    public async Task A_silo_killed_while_another_leaves_gracefully_costs_no_completed_step()
    {
        int seed = SeedFrom(SeedVariable, DefaultSeed);
        output.WriteLine($"seed {seed} (another: {SeedVariable}=<n>)");
        var random = new Random(seed);
        var spec = TinyJob.Spec("kill-during-leave", stages: Stages, steps: 100_000, checkpointInterval: 10) with { SnapshotInterval = 1 };
        var job = await SubmitWithPrimaryKept(spec, "kill-during-leave test: stages off the silo that is never lost");

        long last = 0;
        int duringLeave = 0;
        var story = new List<string>();
        for (int round = 1; round <= Rounds; round++)
        {
            string name = $"round {round}";
            await StepsPast(job, last, 3, $"{name}: the job to run 3 steps past step {last}");
            var holders = await HolderHosts(spec.JobId, Stages);
            string moment = await AwaitMoment(job, random.Next(3), random, name);
            var status = await Retry(job.GetStatus);
            Assert.True(status.State is JobState.Running or JobState.Checkpointing, $"{name}: the job is {status.State}: {status.Error}{Environment.NewLine}{Diagnostics(spec.JobId)}");

            // Leaver and victim: two silos but the primary, each one that holds a stage or a copy where there is one.
            var leaver = Draw(Cluster.Silos.Where(s => s != Cluster.Primary).ToArray(), status, holders, random);
            var victim = Draw(Cluster.Silos.Where(s => s != Cluster.Primary && s != leaver).ToArray(), status, holders, random);
            var killAfter = TimeSpan.FromMilliseconds(random.Next(0, (int)LatestKill.TotalMilliseconds));
            string leaverRole = Role(leaver.Name, status, holders), victimRole = Role(victim.Name, status, holders);

            long logFrom = leaver.LogLength;
            var clock = Stopwatch.StartNew();
            var leaving = leaver.TerminateAsync(DrainTimeout + TimeSpan.FromSeconds(30));
            await Task.WhenAny(leaving, Task.Delay(killAfter)); // the drawn moment of the leave (or its end, if sooner)
            bool stillLeaving = !leaving.IsCompleted;
            if (stillLeaving) duringLeave++;
            victim.Kill();
            double killedAt = clock.Elapsed.TotalSeconds;
            int? exit = await leaving;
            string said = leaver.LogSince(logFrom);
            if (said.Length > 12_000) said = "…" + said[^12_000..];
            Assert.True(exit == 0, $"{name}: {leaver.Name} ({leaverRole}) {(exit is null ? "still ran" : $"exited {exit}")} after SIGTERM, {victim.Name} ({victimRole}) killed {killedAt:F2} s into its leave.{Environment.NewLine}{said}");

            var after = await StepsPast(job, status.CompletedSteps, 2, $"{name}: the job to run 2 steps after {leaver.Name} ({leaverRole}) left and {victim.Name} ({victimRole}) was killed");
            last = after.CompletedSteps;
            string line = string.Create(CultureInfo.InvariantCulture,
                $"round {round}: {leaver.Name} ({leaverRole}) sent SIGTERM {moment} at step {status.CompletedSteps}, epoch {status.Epoch}; {victim.Name} ({victimRole}) killed {killedAt:F2} s later, {(stillLeaving ? "while it was leaving" : "after it had left")}; gone in {clock.Elapsed.TotalSeconds:F1} s; job at step {after.CompletedSteps}, epoch {after.Epoch}");
            story.Add(line);
            output.WriteLine(line);

            await Cluster.RestartAsync(victim); // both back before the wait for every node
            await RestartUntilReady(leaver, name, output.WriteLine);
            await SpreadHolders(spec.JobId, Stages, job, name, output.WriteLine);
        }

        await Retry(job.Cancel);
        var history = await History(spec.JobId);
        var restores = history.Where(e => e.Kind == ClusterEventKind.JobRestored).ToArray();
        string told = $"seed {seed}; {string.Join("; ", story)}; every restore: {string.Join(" | ", restores.Select(e => $"epoch {e.Epoch} step {e.Step} lost {e.StepsLost}: {e.Message}"))}";
        output.WriteLine($"kills during a leave: {duringLeave} of {Rounds}; restores: {restores.Length}, steps recomputed per restore: {string.Join(", ", restores.Select(e => e.StepsLost))}");
        Assert.True(duringLeave > 0, $"no kill fell within a leave: every leave ended within the drawn delay. {told}");
        RecoveryAssert.CostNoCompletedStep(history, told);

        var losses = await Retry(job.GetLossHistory);
        Assert.True(losses.Count >= 3 * Rounds, $"only {losses.Count} steps ran. {told}");
        Assert.Equal(TinyJob.ReferenceLosses(spec, losses.Count).Select(BitConverter.DoubleToInt64Bits), losses.Select(BitConverter.DoubleToInt64Bits));
    }

    /// <summary>One of <paramref name="silos"/>, drawn among those that hold a stage or a snapshot copy when any does.</summary>
    private static SiloProcess Draw(SiloProcess[] silos, JobStatus status, Dictionary<int, string?> holders, Random random)
    {
        var holding = silos.Where(s => Role(s.Name, status, holders) != "nothing").ToArray();
        var from = holding.Length > 0 ? holding : silos;
        return from[random.Next(from.Length)];
    }
}
