using System.Globalization;
using Orleans.TestingHost;
using Xunit.Abstractions;
using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;

namespace Cluster.Grains.Tests;

/// <summary>
/// The run of a random kill-moment test (<see cref="RandomKillMomentTests"/>, <see cref="RandomTransferKillMomentTests"/>):
/// one job lives through <see cref="Rounds"/> failures in a row, each at a moment its test draws, some rounds after a
/// random move (every round's recovery is itself an earlier move for the next); every restore must be from memory and
/// recompute no counted step, and the losses must stay the reference trainer's bit for bit. The seed is printed;
/// <see cref="SeedVariable"/> reruns with another.
/// </summary>
internal static class RandomKillMoments
{
    /// <summary>Environment variable that chooses the moments, victims and moves (an integer); each test's own default without it.</summary>
    public const string SeedVariable = "CLUSTER_KILL_MOMENT_SEED";

    public const int Rounds = 8;

    public const int CheckpointInterval = 5;

    /// <summary>
    /// The held call's target, once the armed moment came; null when the job ran two checkpoint intervals past its
    /// step without a durability check to hold — a checkpoint skipped because the one before was still committing (a
    /// slow store) has none. Any other call the job ran past is a draw that cannot come, and fails the test rather than
    /// pass a round that lost no silo. A timeout says where the job is instead.
    /// </summary>
    private static async Task<GrainId?> Reached(CallMomentClusterFixture fixture, ITrainingJobGrain job, CallMoment moment, long step, int round)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        var reached = fixture.Trap.Reached;
        while (true)
        {
            if (await Task.WhenAny(reached, Task.Delay(TimeSpan.FromMilliseconds(200))) == reached) return await reached;
            var status = await job.GetStatus();
            if (status.CompletedSteps > step + 2 * CheckpointInterval)
                return moment.Method == nameof(ICheckpointShardGrain.WaitDurable) ? null
                    : throw new InvalidOperationException($"round {round}: the job ran to step {status.CompletedSteps} without {moment.Name} of step {step}: the draw named a call the step does not make.");
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"round {round}: {moment.Name} of step {step} never came; the job is {status.State} at step {status.CompletedSteps}, epoch {status.Epoch}: {status.Error}");
        }
    }

    /// <summary>
    /// A round whose moment is a move: the drawn stage's node is drained (its silo's other nodes cordoned), its new
    /// activation's take of its copies from the silo it left is held, and the silo the take reads from or another one
    /// is lost meanwhile. With <see cref="CallMoment.OntoHolder"/> the stage is first made bound for its holder's silo
    /// (<see cref="KillMoments.BoundForItsHolder"/>), whose holder makes room; the take held is then the stage's, or with
    /// <see cref="CallMoment.Holder"/> the holder's (from the silo the stage moves onto), and the silo lost is the one the
    /// take reads from, the one the stage moves onto, the stage's old one, the holder's new one (after a stage's take;
    /// during the holder's own it is among the others) or another. Returns the
    /// step the job ran on to.
    /// </summary>
    private static async Task<long> LoseASiloDuringATake(CallMomentClusterFixture fixture, ITestOutputHelper output, ITrainingJobGrain job, JobSpec spec,
        CallMoment moment, Random random, int round, List<string> story)
    {
        string primary = fixture.Cluster.Silos[0].Name;
        var now = await job.GetStatus();
        var placed = now.Placement.Single(p => p.Replica == moment.Replica && p.Stage == moment.Stage);
        var bound = moment.OntoHolder ? await KillMoments.BoundForItsHolder(fixture, job, spec.JobId, moment.Replica, moment.Stage, free => free[random.Next(free.Length)]) : null;
        if (moment.OntoHolder && bound is null) story.Add($"round {round}: no node free beside its holder: r{placed.Replica}/s{placed.Stage} moves elsewhere");
        if (bound is not null) placed = bound.Value.Placed;
        string? target = bound?.Target;
        bool holdersTake = moment.Holder && target is not null;
        int kind = random.Next(target is null ? 2 : 5);
        string lost;
        bool fromLost = true;
        try
        {
            (var held, placed) = await KillMoments.MoveAndHoldItsTake(fixture, job, placed.Replica, placed.Stage, holdersTake, moment.Skip, bound?.Node);
            // While its take is held, a holder making room is still listed on the silo it leaves: its new one is among the others.
            string? heldOn = fixture.HostOf(held), holderOn = target is null || holdersTake ? null : fixture.HostOf(SnapshotRedundancyCluster.Holder(fixture, spec.JobId, placed.Stage));
            string[] others = [.. fixture.Cluster.Silos.Skip(1).Select(s => s.Name).Where(s => s != heldOn && (target is null || (s != target && s != placed.SiloName && s != holderOn)))];
            string?[] choices = target is null
                ? [heldOn, others[random.Next(others.Length)]]
                : [heldOn, target, placed.SiloName, holderOn, others.Length > 0 ? others[random.Next(others.Length)] : null];
            lost = choices.Skip(kind).Concat(choices.Take(kind)).OfType<string>().First(s => s != primary);
            fromLost = lost == heldOn;
            string whose = fromLost ? "the silo it reads from" : lost == target ? "the silo the stage moves onto" : lost == placed.SiloName ? "the stage's old silo"
                : lost == holderOn ? "its holder's new silo" : "another silo";
            string onto = target is null ? "" : $" onto its holder's silo {target} ({(holdersTake ? "the holder's take" : $"the stage's take; the holder now on {holderOn}")})";
            story.Add($"round {round}: {moment.Name} from {placed.NodeId}{onto} at step {now.CompletedSteps}, held at {held} on {heldOn}; lost {lost} ({whose})");
            output.WriteLine(story[^1]);
            await fixture.Cluster.KillSiloAsync(SnapshotRedundancyCluster.Silo(fixture, lost));
        }
        finally
        {
            if (fromLost) fixture.Trap.Release(); // a take from the lost silo never ran; one elsewhere was only late
            else fixture.Trap.LetRun();
        }
        await fixture.Cluster.StartAdditionalSiloAsync();
        await SnapshotRedundancyCluster.OpenOnly(fixture, [.. fixture.Cluster.Silos.Skip(1).Select(s => s.Name)]); // the drain's cordons lifted too
        return (await SnapshotRedundancyCluster.StepsPast(job, now.CompletedSteps, 2, $"round {round}: the job to recover from losing {lost} during {moment.Name}")).CompletedSteps;
    }

    /// <summary>
    /// Runs <paramref name="spec"/> on <paramref name="replicas"/> replica(s) through <see cref="Rounds"/> rounds, each
    /// holding the call of a moment <paramref name="draw"/> picks (from the random source, the stages and the replicas)
    /// while a silo drawn at random is lost: the held call's, the stage's, the one of the stage the moment names
    /// (<see cref="CallMoment.LoseHostOf"/>: a transfer's sender, say) or another.
    /// </summary>
    public static async Task Run(CallMomentClusterFixture fixture, ITestOutputHelper output, JobSpec spec, int replicas, int defaultSeed,
        Func<Random, int, int, CallMoment> draw, bool rank0WithHolder = false)
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
            var moment = draw(random, spec.Stages, replicas);
            if (moment.Method == nameof(IMigrationParcelGrain.TakeChunk) && !rank0WithHolder)
            {
                last = await LoseASiloDuringATake(fixture, output, job, spec, moment, random, round, story);
                continue;
            }
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
            int kind = random.Next(moment.LoseHostOf is null ? 3 : 4); // the held call's silo, the stage's, another, the named stage's
            fixture.Trap.Arm(moment, spec.JobId, step);
            string victim;
            bool callee = true;
            try
            {
                if (await Reached(fixture, job, moment, step, round) is not { } held)
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
                    string? namedSilo = moment.LoseHostOf is { } named ? placement.Single(p => p.Replica == named.Replica && p.Stage == named.Stage).SiloName : null;
                    string[] others = [.. fixture.Cluster.Silos.Skip(1).Select(s => s.Name).Where(s => s != heldOn && s != stageSilo && s != namedSilo)];
                    string?[] choices = [heldOn, stageSilo, others.Length > 0 ? others[random.Next(others.Length)] : null, namedSilo];
                    victim = choices.Skip(kind).Concat(choices.Take(kind)).OfType<string>().First(s => s != primary);
                    callee = victim == heldOn;
                    string whose = callee ? "the held call's silo" : victim == stageSilo ? "the stage's silo"
                        : victim == namedSilo ? $"r{moment.LoseHostOf!.Value.Replica}/s{moment.LoseHostOf.Value.Stage}'s silo" : "another silo";
                    story.Add($"round {round}: {moment.Name}, step {step}, held at {held} on {heldOn}; lost {victim} ({whose})");
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
