using System.Globalization;

namespace Cluster.Processes.Tests;

/// <summary>
/// Issue 16 §1 on real processes: ten <c>kill -9</c>s in a row of random silos that hold the job's stages or only its
/// snapshot copies, each restarted once the job runs again. Every recovery must restore from the in-memory snapshots,
/// recompute at most the step in flight, and the losses must stay the reference trainer's to the bit. The seed is
/// printed; <see cref="SeedVariable"/> reruns with another.
/// </summary>
public sealed class TenKillProcessTests(ITestOutputHelper output) : ProcessClusterTest
{
    /// <summary>Environment variable that chooses the victims and kill points (an integer); <see cref="DefaultSeed"/> without it.</summary>
    public const string SeedVariable = "CLUSTER_TEN_KILL_SEED";

    private const int DefaultSeed = 16;
    private const int Kills = 10;
    private const int Stages = 2;

    /// <summary>
    /// The fleet failure-detection profile: on a loaded 2-core machine the fast one (1 s probes, one vote) evicts a
    /// silo that is only slow — seen here: a freshly restarted silo, busy loading, was voted dead and shut itself down.
    /// </summary>
    protected override IReadOnlyList<string> SiloSettings => ["--TrainingCluster:FailureDetection=fleet"];

    [Fact]
    public async Task Ten_kills_of_random_stage_and_holder_silos_in_a_row_each_restore_from_the_in_memory_snapshots()
    {
        int seed = SeedFrom(SeedVariable, DefaultSeed);
        output.WriteLine($"seed {seed} (another: {SeedVariable}=<n>)");
        var random = new Random(seed);
        var spec = TinyJob.Spec("ten-kills", stages: Stages, steps: 100_000, checkpointInterval: 20) with { SnapshotInterval = 1 };
        var job = await SubmitWithPrimaryKept(spec, "ten-kill test: stages off the silo that is never lost");

        long last = 0;
        var story = new List<string>();
        for (int round = 1; round <= Kills; round++)
        {
            await StepsPast(job, last, 3, $"round {round}: the job to run 3 steps past step {last}");
            var holders = await HolderHosts(spec.JobId, Stages);

            // A random point of the step: as one completes (its snapshot is being taken and handed over), or part-way through.
            string moment = await AwaitMoment(job, random.Next(2) == 0 ? 1 : 0, random, $"round {round}");
            var status = await Retry(job.GetStatus);
            Assert.True(status.State is JobState.Running or JobState.Checkpointing, $"round {round}: the job is {status.State}: {status.Error}{Environment.NewLine}{Diagnostics(spec.JobId)}");

            // Any silo but the primary that holds a stage or a snapshot copy of one.
            var stageHosts = status.Placement.Select(p => p.SiloName).ToHashSet();
            var candidates = Cluster.Silos.Where(s => s != Cluster.Primary && (stageHosts.Contains(s.Name) || holders.ContainsValue(s.Name))).ToArray();
            Assert.True(candidates.Length > 0, $"round {round}: no silo to lose (stages on {string.Join(", ", stageHosts)}, holders on {string.Join(", ", holders.Values)})");
            var victim = candidates[random.Next(candidates.Length)];
            string role = Role(victim.Name, status, holders);
            bool hostedStage = stageHosts.Contains(victim.Name);

            var killedAt = DateTimeOffset.UtcNow;
            victim.Kill();

            // Recovered: a stage's host lost needs a restore in a new epoch; then the job must run 2 steps past it.
            ClusterEvent? restored = null;
            if (hostedStage)
                restored = await WithDiagnostics(spec.JobId, () => Eventually.Value(
                    async () => (await History(spec.JobId)).FirstOrDefault(e => e.Kind == ClusterEventKind.JobRestored && e.Epoch > status.Epoch), e => e is not null,
                    RoundDeadline, $"round {round}: a restore after {victim.Name} ({role}) was killed"));
            var after = await StepsPast(job, restored?.Step ?? status.CompletedSteps, 2, $"round {round}: the job to run 2 steps after {victim.Name} ({role}) was killed");
            last = after.CompletedSteps;
            string outcome = restored is null ? "no recovery needed"
                : string.Create(CultureInfo.InvariantCulture, $"{restored.Message}; {restored.StepsLost} step(s) recomputed; running again {(DateTimeOffset.UtcNow - killedAt).TotalSeconds:F1} s after the kill");
            string line = $"kill {round}: {victim.Name} ({role}) {moment} at step {status.CompletedSteps}, epoch {status.Epoch}: {outcome}";
            story.Add(line);
            output.WriteLine(line);

            await RestartUntilReady(victim, $"round {round}", output.WriteLine);
            await SpreadHolders(spec.JobId, Stages, job, $"round {round}", output.WriteLine);
        }

        await Retry(job.Cancel);
        var restores = (await History(spec.JobId)).Where(e => e.Kind == ClusterEventKind.JobRestored).ToArray();
        string told = $"seed {seed}; {string.Join("; ", story)}; every restore: {string.Join(" | ", restores.Select(e => $"epoch {e.Epoch} step {e.Step} lost {e.StepsLost}: {e.Message}"))}";
        output.WriteLine($"restores: {restores.Length}, steps recomputed per restore: {string.Join(", ", restores.Select(e => e.StepsLost))}");
        Assert.NotEmpty(restores);
        RecoveryAssert.CostNoCompletedStep(restores, told);

        var losses = await Retry(job.GetLossHistory);
        Assert.True(losses.Count >= 3 * Kills, $"only {losses.Count} steps ran. {told}");
        Assert.Equal(TinyJob.ReferenceLosses(spec, losses.Count).Select(BitConverter.DoubleToInt64Bits), losses.Select(BitConverter.DoubleToInt64Bits));
    }
}
