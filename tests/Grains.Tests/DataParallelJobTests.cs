using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Scheduling;
using Cluster.Grains.Interfaces.Stages;

namespace Cluster.Grains.Tests;

/// <summary>
/// Data-parallel jobs on the in-memory cluster (3 silos × 2 nodes): R replicas of a pipeline, their gradients
/// all-reduced across replicas in the canonical order, train bit-identically to the reference trainer at the same
/// global batch; an elastic job shrinks when a node is taken away and grows back when it returns; a job whose minimum
/// does not fit holds no node at all.
/// </summary>
public sealed class DataParallelJobTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private ISchedulerGrain Scheduler => fixture.Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);

    [Fact]
    public async Task Two_replicas_of_a_two_stage_pipeline_train_bit_identically_to_the_reference()
    {
        var spec = TinyJob.Spec("dp-two", stages: 2, steps: 12, checkpointInterval: 5) with { MinReplicas = 2, MaxReplicas = 2 };
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        await job.Submit(spec);
        var running = await Eventually.Value(job.GetStatus, s => s.CompletedSteps >= 1 || JobRuns.IsFinished(s), JobRuns.Deadline, "the job to start");
        Assert.Equal(2, running.Replicas);
        Assert.Equal(4, running.Placement.Count);
        Assert.Equal(4, running.Placement.Select(p => p.NodeId).Distinct().Count()); // one stage per node
        Assert.Equal([0, 1], running.Placement.Select(p => p.Replica).Distinct().Order());

        var done = await JobRuns.Finished(job);
        Assert.True(done.State == JobState.Completed, $"job ended {done.State}: {done.Error}");
        await JobRuns.AssertReferenceTrajectory(job, spec);
        Assert.Contains(await job.ListCheckpoints(), m => m.Step == 12);
    }

    [Fact]
    public async Task An_elastic_job_shrinks_when_its_node_is_drained_and_grows_back_when_it_returns()
    {
        // 3 stages × 2 replicas take all 6 nodes. Draining one leaves no spare: the replica on it goes (from live
        // state, nothing recomputed) and the job carries on with 1; uncordoned, the node is free again and the job
        // grows back to 2 at a step boundary. The global batch never changes, so neither does the trajectory.
        var spec = TinyJob.Spec("dp-elastic", stages: 3, steps: 400, checkpointInterval: 20) with { MinReplicas = 1, MaxReplicas = 2 };
        await using var events = await EventCollector.StartAsync(fixture.Client);
        var (job, running) = await RunningWithTwoReplicas(spec, steps: 2);

        string drained = running.Placement.First(p => p.Replica == 1).NodeId;
        await Scheduler.Drain(drained);
        var shrunk = await Eventually.Value(job.GetStatus, s => s.Replicas == 1 || JobRuns.IsFinished(s), JobRuns.Deadline, "the job to shrink to 1 replica");
        Assert.DoesNotContain(shrunk.Placement, p => p.NodeId == drained);
        Assert.Equal(3, shrunk.Placement.Count);
        long shrunkAt = shrunk.CompletedSteps;

        await Scheduler.Uncordon(drained);
        var grown = await Eventually.Value(job.GetStatus, s => s.Replicas == 2 || JobRuns.IsFinished(s), JobRuns.Deadline, "the job to grow back to 2 replicas");
        Assert.Equal(2, grown.Replicas);
        Assert.True(grown.CompletedSteps >= shrunkAt);
        await Eventually.Value(job.GetStatus, s => s.CompletedSteps >= grown.CompletedSteps + 3 || JobRuns.IsFinished(s), JobRuns.Deadline, "3 steps with 2 replicas again");
        await job.Cancel();

        await Eventually.True(() => Task.FromResult(events.Events.Count(e => e.JobId == spec.JobId && e.Kind == ClusterEventKind.ReplicasChanged) >= 2),
            TimeSpan.FromSeconds(30), "the shrink and grow events");
        var changes = events.Events.Where(e => e.JobId == spec.JobId && e.Kind == ClusterEventKind.ReplicasChanged).ToArray();
        Assert.Contains(changes, e => e.Message.StartsWith("replicas 2 → 1", StringComparison.Ordinal));
        Assert.Contains(changes, e => e.Message.StartsWith("replicas 1 → 2", StringComparison.Ordinal));
        Assert.DoesNotContain(events.Events, e => e.JobId == spec.JobId && e.Kind == ClusterEventKind.JobRecovering);
        Assert.All(events.Events.Where(e => e.JobId == spec.JobId && e.Kind == ClusterEventKind.StagesMoved), e => Assert.Equal(0, e.StepsLost));
        await JobRuns.AssertReferencePrefix(job, spec);
    }

    [Fact]
    public async Task Only_rank_0_keeps_snapshots_and_a_replica_left_alone_restores_from_its_holders()
    {
        // Replicas hold the same state after every update, so only rank 0 copies it off its device (kept by its stage
        // and its holders); rank 1 keeps nothing. Draining a node of rank 0 (3 stages × 2 replicas fill all 6 nodes, no
        // spare) leaves replica 1 alone: it restores the snapshot from rank 0's holders and loses no step.
        var spec = TinyJob.Spec("dp-rank0", stages: 3, steps: 400, checkpointInterval: 100) with { MinReplicas = 1, MaxReplicas = 2 };
        await using var events = await EventCollector.StartAsync(fixture.Client);
        var (job, running) = await RunningWithTwoReplicas(spec, steps: 3);
        for (int s = 0; s < 3; s++)
        {
            var rank0 = fixture.Client.GetGrain<IPipelineStageGrain>(StageKeys.Stage(spec.JobId, 0, s));
            var rank1 = fixture.Client.GetGrain<IPipelineStageGrain>(StageKeys.Stage(spec.JobId, 1, s));
            Assert.NotEmpty(await rank0.GetSnapshotSteps());
            Assert.NotEmpty(await fixture.Client.GetGrain<ICheckpointShardGrain>(StageKeys.Shard(spec.JobId, s)).GetSnapshotSteps());
            long[] kept = await rank1.GetSnapshotSteps();
            Assert.True(kept.Length == 0, $"rank 1's stage s{s} keeps snapshots of steps {string.Join(", ", kept)}: only rank 0 copies its state");
        }

        string drained = running.Placement.First(p => p.Replica == 0 && p.Stage == 1).NodeId;
        await Scheduler.Drain(drained);
        try
        {
            var shrunk = await Eventually.Value(job.GetStatus, s => (s.Replicas == 1 && s.State == JobState.Running) || JobRuns.IsFinished(s), JobRuns.Deadline, "the job to shrink to replica 1");
            Assert.Equal([1], shrunk.Placement.Select(p => p.Replica).Distinct());
            await Eventually.Value(job.GetStatus, s => s.CompletedSteps >= shrunk.CompletedSteps + 3 || JobRuns.IsFinished(s), JobRuns.Deadline, "3 steps on replica 1 alone");
            await job.Cancel();
        }
        finally
        {
            await Scheduler.Uncordon(drained);
        }
        // Events arrive through a stream, after the status that showed the shrink: wait for the shrink's own event first.
        await Eventually.True(() => Task.FromResult(events.Events.Any(e => e.JobId == spec.JobId && e.Kind == ClusterEventKind.ReplicasChanged
                && e.Message.StartsWith("replicas 2 → 1", StringComparison.Ordinal))),
            TimeSpan.FromSeconds(30), "the shrink's ReplicasChanged event");
        // Replica 1's restore found no copy of its own: a lost step here means it found none at the holders either.
        Assert.DoesNotContain(events.Events, e => e.JobId == spec.JobId && e.Kind == ClusterEventKind.JobRecovering);
        Assert.All(events.Events.Where(e => e.JobId == spec.JobId), e => Assert.True(e.StepsLost == 0, $"{e.Kind} lost {e.StepsLost} steps: {e.Message}"));
        Assert.Contains(events.Events, e => e.JobId == spec.JobId && e.Kind == ClusterEventKind.ReplicasChanged && e.Message.StartsWith("replicas 2 → 1", StringComparison.Ordinal));
        await JobRuns.AssertReferencePrefix(job, spec);
    }

    [Fact]
    public async Task An_elastic_job_shrinks_to_make_room_for_a_job_of_equal_priority_instead_of_being_preempted()
    {
        // A (elastic, 2 stages × 2 replicas) holds 4 of the 6 nodes; B needs 2 replicas × 2 stages on nodes of their
        // own. Fair sharing: A gives back a replica (no checkpoint, no lost step), B runs, and once B is done A grows
        // back onto the free nodes.
        var elasticSpec = TinyJob.Spec("dp-share-a", stages: 2, steps: 400, checkpointInterval: 20) with { MinReplicas = 1, MaxReplicas = 2, Team = "a" };
        var otherSpec = TinyJob.Spec("dp-share-b", stages: 2, steps: 8, checkpointInterval: 4) with { MinReplicas = 2, MaxReplicas = 2, Team = "b" };
        var elastic = fixture.Client.GetGrain<ITrainingJobGrain>(elasticSpec.JobId);
        var other = fixture.Client.GetGrain<ITrainingJobGrain>(otherSpec.JobId);
        await using var events = await EventCollector.StartAsync(fixture.Client);
        await elastic.Submit(elasticSpec);
        await Eventually.Value(elastic.GetStatus, s => (s.Replicas == 2 && s.CompletedSteps >= 2) || JobRuns.IsFinished(s), JobRuns.Deadline, "the elastic job to run 2 replicas");

        await other.Submit(otherSpec);
        var done = await JobRuns.Finished(other);
        Assert.True(done.State == JobState.Completed, $"job B ended {done.State}: {done.Error}");
        await JobRuns.AssertReferenceTrajectory(other, otherSpec);
        var grown = await Eventually.Value(elastic.GetStatus, s => s.Replicas == 2 || JobRuns.IsFinished(s), JobRuns.Deadline, "the elastic job to grow back once B is done");
        Assert.Equal(2, grown.Replicas);
        await elastic.Cancel();

        bool Changed(string from) => events.Events.Any(e => e.JobId == elasticSpec.JobId && e.Kind == ClusterEventKind.ReplicasChanged && e.Message.StartsWith(from, StringComparison.Ordinal));
        await Eventually.True(() => Task.FromResult(Changed("replicas 2 → 1") && Changed("replicas 1 → 2")), TimeSpan.FromSeconds(30), "the shrink and grow events");
        var mine = events.Events.Where(e => e.JobId == elasticSpec.JobId).ToArray();
        Assert.Contains(mine, e => e.Kind == ClusterEventKind.ReplicasChanged && e.Message.StartsWith("replicas 2 → 1", StringComparison.Ordinal) && e.Message.Contains(otherSpec.JobId, StringComparison.Ordinal));
        Assert.DoesNotContain(mine, e => e.Kind is ClusterEventKind.JobPreempted or ClusterEventKind.JobRecovering);
        await JobRuns.AssertReferencePrefix(elastic, elasticSpec);
    }

    [Fact]
    public async Task A_job_whose_minimum_replicas_do_not_fit_waits_holding_no_node()
    {
        // 4 replicas × 2 stages need 8 nodes; the fleet has 6. Gang placement: all of the minimum or nothing.
        var spec = TinyJob.Spec("dp-gang", stages: 2, steps: 5) with { MinReplicas = 4, MaxReplicas = 4 };
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        await job.Submit(spec);
        var waiting = await Eventually.Value(job.GetStatus, s => s.State == JobState.WaitingForCapacity || JobRuns.IsFinished(s), JobRuns.Deadline, "the job to wait for capacity");
        Assert.Equal(JobState.WaitingForCapacity, waiting.State);
        Assert.Equal(0, waiting.Replicas);
        Assert.Empty(await Scheduler.GetPlacement(spec.JobId));
        Assert.Contains(await Scheduler.GetQueue(), q => q.Ticket.JobId == spec.JobId);
        await job.Cancel();
    }

    [Fact]
    public async Task Replica_counts_that_would_change_the_bits_are_refused_naming_the_ones_that_work()
    {
        var spec = TinyJob.Spec("dp-invalid", stages: 2) with { MicroBatches = 4, MinReplicas = 3, MaxReplicas = 0 };
        var e = await Assert.ThrowsAsync<JobSpecInvalidException>(() => fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId).Submit(spec));
        Assert.Contains(e.Problems, p => p.StartsWith("maxReplicas: 0 is below minReplicas 3", StringComparison.Ordinal));
        var three = spec with { JobId = "dp-invalid-3", MaxReplicas = 3 };
        e = await Assert.ThrowsAsync<JobSpecInvalidException>(() => fixture.Client.GetGrain<ITrainingJobGrain>(three.JobId).Submit(three));
        Assert.Contains(e.Problems, p => p.Contains("minReplicas: 3 cannot split microBatches 4", StringComparison.Ordinal) && p.Contains("use 1, 2 or 4", StringComparison.Ordinal));
    }

    /// <summary>Submits <paramref name="spec"/> and waits until it runs 2 replicas and has completed <paramref name="steps"/> steps.</summary>
    private async Task<(ITrainingJobGrain Job, JobStatus Running)> RunningWithTwoReplicas(JobSpec spec, long steps)
    {
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        await job.Submit(spec);
        var running = await Eventually.Value(job.GetStatus, s => (s.Replicas == 2 && s.CompletedSteps >= steps) || JobRuns.IsFinished(s), JobRuns.Deadline, $"2 replicas to run {steps} steps");
        Assert.Equal(2, running.Replicas);
        return (job, running);
    }
}
