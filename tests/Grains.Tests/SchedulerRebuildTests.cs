using Cluster.Grains.Compute;
using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Scheduling;
using Microsoft.Extensions.DependencyInjection;
using static Cluster.Grains.Tests.JobRuns;

namespace Cluster.Grains.Tests;

/// <summary>
/// Issue 13, the scheduler's rebuild when what it asks does not answer. The scheduler is moved to the other silo (a
/// fresh activation that rebuilds its table, as after its silo died) while faults hold back its questions: the job
/// registry cannot be read, or a running job never answers.
/// </summary>
public sealed class SchedulerRebuildTests(SchedulerRebuildClusterFixture fixture) : IClassFixture<SchedulerRebuildClusterFixture>
{
    private ISchedulerGrain Scheduler => fixture.Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);

    /// <summary>A fresh scheduler activation: moved to the silo it is not on.</summary>
    private async Task RestartScheduler()
    {
        var scheduler = Scheduler;
        await scheduler.GetNodes();
        SchedulerCallFaults.Scheduler = scheduler.GetGrainId();
        var other = fixture.Cluster.Silos.First(s => s.Name != fixture.HostOf(scheduler));
        await fixture.MoveGrainAsync(scheduler, other, scheduler.GetNodes);
    }

    [Fact]
    public async Task While_the_job_registry_cannot_be_read_the_scheduler_admits_nothing_and_admits_once_it_can()
    {
        var spec = TinyJob.Spec("rebuild-registry-down", stages: 2, steps: 6, checkpointInterval: 0);
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        await job.GetStatus();
        SchedulerCallFaults.RegistryDown = true;
        try
        {
            int before = SchedulerCallFaults.RegistryFailures;
            await RestartScheduler();
            // More failed reads than the three after which the scheduler used to start admitting blind.
            await Eventually.True(() => Task.FromResult(SchedulerCallFaults.RegistryFailures - before >= 5), TimeSpan.FromSeconds(90),
                "the new scheduler activation to fail reading the registry 5 times");
            await job.Submit(spec);
            var waiting = await Eventually.Value(job.GetStatus, s => s.State == JobState.WaitingForCapacity || IsFinished(s) || s.CompletedSteps > 0,
                Deadline, "the job to wait for the scheduler");
            Assert.Equal(JobState.WaitingForCapacity, waiting.State);
            Assert.Contains("job registry cannot be read", waiting.Error, StringComparison.Ordinal);
            Assert.Empty(await Scheduler.GetPlacement(spec.JobId));
            int failures = SchedulerCallFaults.RegistryFailures;
            await Eventually.True(() => Task.FromResult(SchedulerCallFaults.RegistryFailures > failures), TimeSpan.FromSeconds(60),
                "the scheduler to keep asking the registry");
            Assert.Empty(await Scheduler.GetPlacement(spec.JobId));
            Assert.Equal(0, (await job.GetStatus()).CompletedSteps);
        }
        finally
        {
            SchedulerCallFaults.RegistryDown = false;
        }
        var done = await Finished(job);
        Assert.True(done.State == JobState.Completed, $"the job ended {done.State}: {done.Error}");
        await AssertReferenceTrajectory(job, spec);
    }

    [Fact]
    public async Task A_running_job_that_never_answered_the_rebuild_is_reconciled_when_it_next_asks_to_be_placed()
    {
        await using var events = await EventCollector.StartAsync(fixture.Client);
        var spec = TinyJob.Spec("rebuild-late-job", stages: 2, steps: 40, checkpointInterval: 5);
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        await job.Submit(spec);
        var running = await Eventually.Value(job.GetStatus, s => s.CompletedSteps >= 2 || IsFinished(s), Deadline, "the job to run");
        Assert.True(running.State is JobState.Running or JobState.Checkpointing, $"the job is {running.State}: {running.Error}"); // a checkpoint every 5 steps overlaps the next step
        SchedulerCallFaults.Silence(spec.JobId);
        try
        {
            await RestartScheduler();
            // Three rounds unanswered: the new activation admits without knowing what the job holds.
            await Eventually.True(() => Task.FromResult(SchedulerCallFaults.Unanswered(spec.JobId) >= 3), TimeSpan.FromSeconds(90),
                "the job to leave the scheduler's question unanswered three times");
            Assert.Empty(await Scheduler.GetPlacement(spec.JobId));
            Assert.DoesNotContain(events.Events, e => e.JobId == spec.JobId && e.Kind == ClusterEventKind.PlacementReconciled);

            // The job next asks to be placed (it recovers from a lost node): what it holds is reconciled first.
            var lost = running.Placement[0].NodeId;
            await job.NodesLost([lost], "test: a node lost to make the job ask to be placed again");
            var reconciled = await Eventually.Value(() => Task.FromResult(events.Events.FirstOrDefault(e => e.JobId == spec.JobId && e.Kind == ClusterEventKind.PlacementReconciled)),
                e => e is not null, TimeSpan.FromSeconds(90), "a PlacementReconciled event for the job that did not answer");
            Assert.Contains("did not answer the rebuild", reconciled!.Message, StringComparison.Ordinal);
            Assert.Contains("adopted", reconciled.Message, StringComparison.Ordinal);
            Assert.Contains(lost, reconciled.Message, StringComparison.Ordinal);
            Assert.NotEmpty(await Eventually.Value(() => Scheduler.GetPlacement(spec.JobId), p => p.Count > 0, Deadline, "the job placed in the scheduler's table"));
        }
        finally
        {
            SchedulerCallFaults.Answer(spec.JobId);
        }
        var done = await Finished(job);
        Assert.True(done.State == JobState.Completed, $"the job ended {done.State}: {done.Error}");
        await AssertReferenceTrajectory(job, spec);
    }

    /// <summary>
    /// The gap the late-job reconciliation left: between the rebuild's third round and the silent job's first ask, the
    /// table does not know its nodes. The nodes do — each heartbeat lists the stages it runs — so the rebuilt scheduler
    /// keeps them out of placement until the job is reconciled: a job submitted meanwhile is placed on the other nodes
    /// only. (The old scheduler spread it over all four nodes, two of them the silent job's.)
    /// </summary>
    [Fact]
    public async Task A_job_submitted_while_a_running_job_cannot_answer_the_rebuild_is_not_placed_on_its_nodes()
    {
        await using var events = await EventCollector.StartAsync(fixture.Client);
        var silentSpec = TinyJob.Spec("rebuild-silent-runner", stages: 2, steps: 40, checkpointInterval: 5);
        var queuedSpec = TinyJob.Spec("rebuild-silent-newcomer", stages: 4, steps: 6, checkpointInterval: 0);
        var silent = fixture.Client.GetGrain<ITrainingJobGrain>(silentSpec.JobId);
        var queued = fixture.Client.GetGrain<ITrainingJobGrain>(queuedSpec.JobId);
        await silent.Submit(silentSpec);
        var running = await Eventually.Value(silent.GetStatus, s => s.CompletedSteps >= 2 || IsFinished(s), Deadline, "the job to run");
        Assert.True(running.State is JobState.Running or JobState.Checkpointing, $"the job is {running.State}: {running.Error}"); // a checkpoint every 5 steps overlaps the next step
        string[] held = [.. running.Placement.Select(p => p.NodeId).Distinct()];
        // Slow devices under the silent job (a sleep per unit of compute): it is still running when the other is placed.
        var slowed = running.Placement.Select(p => (Node: p.NodeId, Slowdown: fixture.Cluster.Silos.Single(s => s.Name == p.SiloName).ServiceProvider.GetRequiredService<ComputeSlowdown>())).ToArray();
        foreach (var (node, slowdown) in slowed) slowdown.Set(node, TimeSpan.FromMilliseconds(100));
        using var watch = new CancellationTokenSource();
        var doubleBooked = new List<string>();
        var sampler = DoubleBookingSampler.Sample([silent, queued], Scheduler, doubleBooked, watch.Token);
        SchedulerCallFaults.Silence(silentSpec.JobId);
        try
        {
            await RestartScheduler();
            await Eventually.True(() => Task.FromResult(SchedulerCallFaults.Unanswered(silentSpec.JobId) >= 3), TimeSpan.FromSeconds(90),
                "the job to leave the scheduler's question unanswered three times");
            Assert.Empty(await Scheduler.GetPlacement(silentSpec.JobId)); // the rebuilt table does not know it
            // The nodes view says so (what `clusterctl nodes` shows): its nodes are held back for it, for at most the
            // configured hold (the fixture's, not the default).
            var heldNodes = await Eventually.Value(Scheduler.GetNodes, n => held.All(id => n.Single(x => x.Capabilities.NodeId == id).HeldBack is not null),
                Deadline, "the silent job's nodes to show as held back");
            foreach (var node in heldNodes.Where(n => held.Contains(n.Capabilities.NodeId)))
            {
                Assert.Equal([silentSpec.JobId], node.HeldBack!.JobIds);
                Assert.Equal(SchedulerRebuildClusterFixture.SilentJobHold, node.HeldBack.Until - node.HeldBack.Since);
            }

            await queued.Submit(queuedSpec);
            var placed = await Eventually.Value(() => Scheduler.GetPlacement(queuedSpec.JobId), p => p.Count > 0, Deadline, "the submitted job to be placed");
            var silentNow = await silent.GetStatus();
            Assert.True(silentNow.State is JobState.Running or JobState.Checkpointing && silentNow.CompletedSteps < silentSpec.Steps,
                $"the silent job no longer ran when the other was placed ({silentNow.State}, step {silentNow.CompletedSteps}): the test proves nothing");
            Assert.True(SchedulerCallFaults.Unanswered(silentSpec.JobId) > 0 && (await Scheduler.GetPlacement(silentSpec.JobId)).Count == 0,
                "the silent job was reconciled before the other was placed: the test proves nothing");
            Assert.True(!placed.Intersect(held).Any(), $"placed on {string.Join(", ", placed)}, but the silent job runs on {string.Join(", ", held)}");
        }
        finally
        {
            SchedulerCallFaults.Answer(silentSpec.JobId);
        }
        try
        {
            // It answers: its placement is adopted, with the event that says so.
            var reconciled = await Eventually.Value(() => Task.FromResult(events.Events.FirstOrDefault(e => e.JobId == silentSpec.JobId && e.Kind == ClusterEventKind.PlacementReconciled)),
                e => e is not null, TimeSpan.FromSeconds(90), "a PlacementReconciled event for the job that did not answer");
            Assert.Contains("adopted", reconciled!.Message, StringComparison.Ordinal);
        }
        finally
        {
            foreach (var (node, slowdown) in slowed) slowdown.Clear(node);
        }
        try
        {
            foreach (var (job, spec) in new[] { (silent, silentSpec), (queued, queuedSpec) })
            {
                var done = await Finished(job);
                Assert.True(done.State == JobState.Completed, $"job {spec.JobId} ended {done.State}: {done.Error}");
                await AssertReferenceTrajectory(job, spec);
            }
        }
        finally
        {
            await watch.CancelAsync();
            await sampler;
        }
        Assert.True(doubleBooked.Count == 0, $"nodes held by two jobs at once: {string.Join("; ", doubleBooked.Distinct().Take(10))}");
    }
}
