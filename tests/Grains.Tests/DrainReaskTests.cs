using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Scheduling;
using Cluster.Grains.Interfaces.Stages;

namespace Cluster.Grains.Tests;

/// <summary>
/// A drain ends even when the scheduler's ask to move off the node comes to nothing (a one-way call that failed, or
/// one a job dropped while it was being placed anew): the scheduler asks again while the job still has stages there.
/// And it ends as a move, not a recovery, when a stage's configuration is lost on the way, or the job's call to the
/// scheduler is rejected by a stopping silo.
/// </summary>
public sealed class DrainReaskTests(FilteredClusterFixture<DroppedCalls> fixture) : IClassFixture<FilteredClusterFixture<DroppedCalls>>
{
    private DroppedCalls Dropped => fixture.Filter;

    [Fact]
    public async Task A_drained_stage_moves_although_the_first_asks_to_move_it_were_lost()
    {
        var history = await MovesDespite<ITrainingJobGrain>("drain-reask", nameof(ITrainingJobGrain.MoveStagesOff), 2, null, "although the first asks were lost");
        RecoveryAssert.CostNoCompletedStep(history, "a drain whose first asks were lost");
    }

    /// <summary>
    /// A move whose configuration is lost with the silo it was sent to — a graceful shutdown that ends as the stage leaves
    /// it, while the job's next call to the stage waits there to be forwarded (seen in CI: <c>GracefulShutdownTests</c>'
    /// job recovered although nothing failed) — is a move still: the job sends the configuration again. Before, the job
    /// recovered.
    /// </summary>
    [Fact]
    public async Task A_drained_stage_moves_without_a_recovery_although_a_configuration_was_lost_with_a_silo()
    {
        var history = await MovesDespite<IPipelineStageGrain>("drain-lost-configure", nameof(IPipelineStageGrain.Configure), 1,
            what => new SiloUnavailableException(what), "although its configuration was lost");
        Assert.DoesNotContain(history, e => e.Kind is ClusterEventKind.JobRecovering or ClusterEventKind.JobRestored);
    }

    /// <summary>
    /// The job's call to place its stages anew, rejected unrun the way a stopping silo rejects calls to the scheduler it
    /// still hosts (a rolling update that takes the scheduler's silo), is sent again: the drain ends as a move
    /// (<c>JobSchedulerCalls</c>). Before, the rejection made the job recover.
    /// </summary>
    [Fact]
    public async Task A_drained_stage_moves_without_a_recovery_although_a_stopping_silo_rejected_the_jobs_call_to_the_scheduler()
    {
        var history = await MovesDespite<ISchedulerGrain>("drain-scheduler-stopping", nameof(ISchedulerGrain.PlaceReplicas), 3,
            _ => StoppingSiloRejection.Create(), "although a stopping silo rejected the job's call to the scheduler");
        Assert.DoesNotContain(history, e => e.Kind is ClusterEventKind.JobRecovering or ClusterEventKind.JobRestored);
    }

    /// <summary>
    /// A job with nowhere to move when its node is drained says so and stays; asked again, it moves once a node frees
    /// up. Asked once, it stayed on the draining node for good.
    /// </summary>
    [Fact]
    public async Task A_drained_stage_with_nowhere_to_go_moves_once_a_node_frees_up()
    {
        var (spec, job, scheduler, running, node) = await Running("drain-nowhere");
        string[] others = [.. (await scheduler.GetNodes()).Select(n => n.Capabilities.NodeId).Where(n => running.Placement.All(p => p.NodeId != n))];
        string[] s0 = [.. running.Placement.Where(p => p.NodeId != node).Select(p => p.NodeId)]; // a node may take more than one stage: closed too
        try
        {
            foreach (string other in others.Concat(s0)) await scheduler.Cordon(other);
            await scheduler.Drain(node);
            await Eventually.True(async () => (await JobHistory.All(fixture, spec.JobId)).Any(e => e.Message.StartsWith("stages not moved", StringComparison.Ordinal)),
                JobRuns.Deadline, "the job to say its stage has nowhere to go");
            Assert.Contains((await job.GetStatus()).Placement, p => p.NodeId == node);

            await scheduler.Uncordon(others[0]);
            var moved = await Eventually.Value(job.GetStatus, s => !s.Placement.Any(p => p.NodeId == node) || JobRuns.IsFinished(s), JobRuns.Deadline,
                $"s1 to move off the drained node {node} once {others[0]} was uncordoned");
            Assert.False(JobRuns.IsFinished(moved), $"job is {moved.State}: {moved.Error}");
            Assert.Equal(others[0], moved.Placement.Single(p => p.Stage == 1).NodeId);
        }
        finally
        {
            foreach (string other in others.Concat(s0).Append(node)) await scheduler.Uncordon(other);
            await job.Cancel();
        }
        RecoveryAssert.CostNoCompletedStep(await JobHistory.All(fixture, spec.JobId), "a drain with nowhere to go, then a node freed");
    }

    /// <summary>
    /// Runs a job, fails the next <paramref name="count"/> calls of <typeparamref name="TGrain"/>'s
    /// <paramref name="method"/> (with <paramref name="fault"/>'s error), drains its stage 1's node, and waits until the
    /// stage moved and the job made 2 steps more; asserts that every armed call was failed, and returns the job's history.
    /// </summary>
    private async Task<ClusterEvent[]> MovesDespite<TGrain>(string jobId, string method, int count, Func<string, Exception>? fault, string despite)
    {
        var (spec, job, scheduler, _, node) = await Running(jobId);
        Dropped.Arm<TGrain>(method, count, fault);
        try
        {
            await DrainAndMove(job, scheduler, node, despite);
            Assert.Equal(count, Dropped.Dropped);
        }
        finally
        {
            Dropped.Arm<TGrain>(method, 0);
            await scheduler.Uncordon(node);
            await job.Cancel();
        }
        return await JobHistory.All(fixture, spec.JobId);
    }

    /// <summary>Drains <paramref name="node"/> and waits until the job's stage left it and the job made 2 steps more.</summary>
    private static async Task DrainAndMove(ITrainingJobGrain job, ISchedulerGrain scheduler, string node, string despite)
    {
        await scheduler.Drain(node);
        var moved = await Eventually.Value(job.GetStatus, s => !s.Placement.Any(p => p.NodeId == node) || JobRuns.IsFinished(s), JobRuns.Deadline,
            $"s1 to move off the drained node {node} {despite}");
        Assert.False(JobRuns.IsFinished(moved), $"job is {moved.State}: {moved.Error}");
        await SnapshotRedundancyCluster.StepsPast(job, moved.CompletedSteps, 2, "2 steps after the move");
    }

    /// <summary>Submits a 2-stage job, waits for 3 steps, and returns it with the node of its stage 1 (the one drained).</summary>
    private async Task<(JobSpec Spec, ITrainingJobGrain Job, ISchedulerGrain Scheduler, JobStatus Running, string Node)> Running(string jobId)
    {
        var spec = TinyJob.Spec(jobId, stages: 2, steps: 100_000, checkpointInterval: 100_000);
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        await job.Submit(spec);
        var running = await Eventually.Value(job.GetStatus, s => (s.State == JobState.Running && s.CompletedSteps >= 3) || JobRuns.IsFinished(s), JobRuns.Deadline, "3 steps");
        Assert.False(JobRuns.IsFinished(running), $"job is {running.State}: {running.Error}");
        return (spec, job, fixture.Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default), running, running.Placement.Single(p => p.Stage == 1).NodeId);
    }
}
