using System.Globalization;
using Orleans.TestingHost;
using Xunit.Abstractions;
using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Stages;

namespace Cluster.Grains.Tests;

/// <summary>
/// "A single failure costs no completed step" for any silo, at any moment of a step, after any earlier moves: one job
/// lives through <see cref="Rounds"/> single failures in a row, each at a moment drawn at random — a call of the
/// step the job makes to a stage or a stage makes to a peer or to a snapshot holder (forward and backward passes, the
/// all-reduce, gradient norms, the update, the snapshot's start and its acknowledgement, a snapshot or checkpoint shard
/// on its way, a checkpoint's durability check), at a random step, some right after a checkpoint — held back while a
/// silo drawn at random is lost: the silo that runs the held call (which then fails), the stage's, or another one
/// (the held call then runs late). Some rounds first move a random stage with an operator's drain; every round's
/// recovery is itself an earlier move for the next. Every restore must be from memory and recompute no counted step,
/// and the losses must stay the reference trainer's bit for bit. A third test loses two silos at once in each round —
/// rank 0's of the drawn stage and its holder's — which a surviving replica's live state must cover. The seed is
/// printed; <see cref="SeedVariable"/> reruns with another.
/// </summary>
public sealed class RandomKillMomentTests(CallMomentClusterFixture fixture, ITestOutputHelper output) : IClassFixture<CallMomentClusterFixture>
{
    /// <summary>Environment variable that chooses the moments, victims and moves (an integer); each test's own default without it.</summary>
    public const string SeedVariable = "CLUSTER_KILL_MOMENT_SEED";

    private const int Rounds = 8;

    private const int CheckpointInterval = 5;

    /// <summary>The job's calls to every stage of every replica, and the stages' calls to their peers, of a step.</summary>
    private static readonly string[] StageCalls =
    [
        nameof(IPipelineStageGrain.RunMicroBatch), nameof(IPipelineStageGrain.GradientSquares), nameof(IPipelineStageGrain.ApplyUpdate),
    ];

    /// <summary>The job's calls that only snapshotting stages (rank 0's) get.</summary>
    private static readonly string[] SnapshotCalls = [nameof(IPipelineStageGrain.BeginSnapshot), nameof(IPipelineStageGrain.SnapshotHeld)];

    /// <summary>The data-parallel ranks' calls to each other during the all-reduce.</summary>
    private static readonly string[] AllReduceCalls = [nameof(IPipelineStageGrain.GetGradientRange), nameof(IPipelineStageGrain.GetReducedRange)];

    /// <summary>Calls to a stage's snapshot holder: a copy on its way, and (at a checkpoint) the commit's durability check.</summary>
    private static readonly string[] HolderCalls = [nameof(ICheckpointShardGrain.Accept), nameof(ICheckpointShardGrain.WaitDurable)];

    [Fact]
    public Task A_pipeline_loses_no_counted_step_to_single_failures_at_random_moments() =>
        Run(TinyJob.Spec("random-moments-pipe", stages: 3, steps: 5000, checkpointInterval: CheckpointInterval) with { SnapshotInterval = 1 }, replicas: 1, defaultSeed: 1601);

    [Fact]
    public Task Data_parallel_replicas_lose_no_counted_step_to_single_failures_at_random_moments() =>
        Run(TinyJob.Spec("random-moments-dp", stages: 2, steps: 5000, checkpointInterval: CheckpointInterval) with { MinReplicas = 1, MaxReplicas = 2, SnapshotInterval = 1 },
            replicas: 2, defaultSeed: 1602);

    /// <summary>
    /// Two failures at once in each round: the drawn stage's snapshot holder, alone on a fresh silo, and rank 0's silo of
    /// that stage — every snapshot of it. Rank 1 of the stage lives elsewhere (moved off first if it shares rank 0's
    /// silo), and its live state must serve: no counted step may be lost (<c>PipelineStageGrain.LiveState</c>).
    /// </summary>
    [Fact]
    public Task Data_parallel_replicas_lose_no_counted_step_when_rank_0_and_its_holder_are_lost_together_at_random_moments() =>
        Run(TinyJob.Spec("random-moments-dp-pair", stages: 2, steps: 5000, checkpointInterval: CheckpointInterval) with { MinReplicas = 1, MaxReplicas = 2, SnapshotInterval = 1 },
            replicas: 2, defaultSeed: 1603, rank0WithHolder: true);

    private static CallMoment Draw(Random random, int stages, int replicas)
    {
        string[] methods = [.. StageCalls, .. SnapshotCalls, .. HolderCalls, .. replicas > 1 ? AllReduceCalls : []];
        string method = methods[random.Next(methods.Length)];
        bool holder = HolderCalls.Contains(method);
        int replica = holder || SnapshotCalls.Contains(method) ? 0 : random.Next(replicas);
        int stage = random.Next(stages);
        bool checkpoint = method == nameof(ICheckpointShardGrain.WaitDurable) || random.Next(3) == 0;
        return new CallMoment($"{method} of r{replica}/s{stage}{(holder ? "'s holder" : "")}{(checkpoint ? " at a checkpoint" : "")}", method, replica, stage, holder, Checkpoint: checkpoint);
    }

    /// <summary>
    /// The held call's target, once the armed moment came; null when the job ran two checkpoint intervals past its
    /// step without it — a checkpoint skipped because the one before was still committing (a slow store) has no
    /// durability check to hold. A timeout says where the job is instead.
    /// </summary>
    private async Task<GrainId?> Reached(ITrainingJobGrain job, CallMoment moment, long step, int round)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        var reached = fixture.Trap.Reached;
        while (true)
        {
            if (await Task.WhenAny(reached, Task.Delay(TimeSpan.FromMilliseconds(200))) == reached) return await reached;
            var status = await job.GetStatus();
            if (status.CompletedSteps > step + 2 * CheckpointInterval) return null;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"round {round}: {moment.Name} of step {step} never came; the job is {status.State} at step {status.CompletedSteps}, epoch {status.Epoch}: {status.Error}");
        }
    }

    private async Task Run(JobSpec spec, int replicas, int defaultSeed, bool rank0WithHolder = false)
    {
        int seed = int.TryParse(Environment.GetEnvironmentVariable(SeedVariable), NumberStyles.Integer, CultureInfo.InvariantCulture, out int chosen) ? chosen : defaultSeed;
        output.WriteLine($"seed {seed} (another: {SeedVariable}=<n>)");
        var random = new Random(seed);
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        string primary = fixture.Cluster.Silos[0].Name;
        await SnapshotRedundancyCluster.KeepCoordinatorsOnPrimary(fixture, job);
        await SnapshotRedundancyCluster.OpenOnly(fixture, [.. fixture.Cluster.Silos.Skip(1).Select(s => s.Name)]); // every stage host can be lost
        await job.Submit(spec);
        var story = new List<string>();
        long last = 0;
        for (int round = 0; round < Rounds; round++)
        {
            var running = await Eventually.Value(job.GetStatus, s => (s.Replicas == replicas && s.State is JobState.Running or JobState.Checkpointing && s.CompletedSteps >= last + 2) || JobRuns.IsFinished(s),
                JobRuns.Deadline, $"round {round}: {replicas} replica(s) to run 2 steps past step {last}");
            Assert.True(running.Replicas == replicas && !JobRuns.IsFinished(running), $"round {round}: job is {running.State} with {running.Replicas} replicas: {running.Error}. {string.Join("; ", story)}");
            if (random.Next(3) == 0)
            {
                (running, string moved) = await SnapshotRedundancyCluster.MoveStage(fixture, job, running, random.Next(replicas), random.Next(spec.Stages));
                story.Add($"round {round}: {moved}");
            }
            var moment = Draw(random, spec.Stages, replicas);
            InProcessSiloHandle? holderOnly = null;
            if (rank0WithHolder)
            {
                (running, holderOnly, string? moved) = await SnapshotRedundancyCluster.Rank0ApartWithItsHolderAlone(fixture, job, running, spec.JobId, moment.Stage);
                if (moved is not null) story.Add($"round {round}: {moved} (off rank 0's silo)");
            }
            else if (moment.Holder) await SnapshotRedundancyCluster.KeepHolderOffPrimary(fixture, spec.JobId, moment.Stage, running);
            // From where the job is now (the moves above take a while), past the steps that may be in flight (one computing while
            // the one before it is still being snapshotted).
            long step = moment.StepFrom((await job.GetStatus()).CompletedSteps + 3 + random.Next(3), CheckpointInterval);
            int kind = random.Next(3); // the held call's silo, the stage's, another
            fixture.Trap.Arm(moment, spec.JobId, step);
            string victim;
            bool callee = true;
            try
            {
                if (await Reached(job, moment, step, round) is not { } held)
                {
                    callee = false;
                    story.Add($"round {round}: {moment.Name} of step {step} never came (its checkpoint skipped); no silo lost");
                    output.WriteLine(story[^1]);
                    continue;
                }
                var placement = (await job.GetStatus()).Placement;
                string? heldOn = fixture.HostOf(held);
                if (holderOnly is not null)
                {
                    string rank0 = placement.Single(p => p.Replica == 0 && p.Stage == moment.Stage).SiloName;
                    victim = $"{holderOnly.Name} (s{moment.Stage}'s holder, alone) and {rank0} (r0/s{moment.Stage}'s)";
                    callee = heldOn == holderOnly.Name || heldOn == rank0;
                    story.Add($"round {round}: {moment.Name}, step {step}, held at {held} on {heldOn}; lost {victim}");
                    output.WriteLine(story[^1]);
                    await fixture.Cluster.KillSiloAsync(holderOnly);
                    await fixture.Cluster.KillSiloAsync(SnapshotRedundancyCluster.Silo(fixture, rank0));
                }
                else
                {
                    string stageSilo = placement.Single(p => p.Replica == moment.Replica && p.Stage == moment.Stage).SiloName;
                    string[] others = [.. fixture.Cluster.Silos.Skip(1).Select(s => s.Name).Where(s => s != heldOn && s != stageSilo)];
                    string?[] choices = [heldOn, stageSilo, others.Length > 0 ? others[random.Next(others.Length)] : null];
                    victim = choices.Skip(kind).Concat(choices.Take(kind)).OfType<string>().First(s => s != primary);
                    callee = victim == heldOn;
                    story.Add($"round {round}: {moment.Name}, step {step}, held at {held} on {heldOn}; lost {victim} ({(callee ? "the held call's silo" : victim == stageSilo ? "the stage's silo" : "another silo")})");
                    output.WriteLine(story[^1]);
                    await fixture.Cluster.KillSiloAsync(SnapshotRedundancyCluster.Silo(fixture, victim));
                }
            }
            finally
            {
                // A call to the lost silo never ran; one elsewhere was only late.
                if (callee) fixture.Trap.Release();
                else fixture.Trap.LetRun();
            }
            await fixture.Cluster.StartAdditionalSiloAsync();
            if (holderOnly is not null) await fixture.Cluster.StartAdditionalSiloAsync();
            await SnapshotRedundancyCluster.OpenOnly(fixture, [.. fixture.Cluster.Silos.Skip(1).Select(s => s.Name)]);
            last = (await SnapshotRedundancyCluster.StepsPast(job, step, 2, $"round {round}: the job to recover from losing {victim} at {moment.Name} of step {step}")).CompletedSteps;
        }

        // One more step counted before the cancel, waited for: a cancel that lands right at a step boundary stops the
        // job before its next step, so "past the last recovery" must not depend on how fast the cancel arrives.
        await SnapshotRedundancyCluster.StepsPast(job, last, 1, "one more step after the last recovery");
        var end = await SnapshotRedundancyCluster.Reliably(job.Cancel, "the job to cancel");
        Assert.True(end.State is JobState.Cancelled or JobState.Running or JobState.Checkpointing, $"job is {end.State}: {end.Error}");
        var history = await JobHistory.All(fixture, spec.JobId);
        string told = $"seed {seed}; {string.Join("; ", story)}; recoveries: {JobHistory.Told(history.Where(e => e.StepsLost > 0 || e.Kind is ClusterEventKind.JobRestored or ClusterEventKind.JobResumed))}";
        output.WriteLine(told);
        RecoveryAssert.CostNoCompletedStep(history, told);
        var losses = await SnapshotRedundancyCluster.Reliably(job.GetLossHistory, "the loss history");
        Assert.True(losses.Count > last, $"only {losses.Count} steps ran. {told}");
        Assert.Equal(TinyJob.ReferenceLosses(spec, losses.Count).Select(BitConverter.DoubleToInt64Bits), losses.Select(BitConverter.DoubleToInt64Bits));
    }
}
