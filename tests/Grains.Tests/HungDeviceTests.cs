using Cluster.Grains.Compute;
using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Nodes;
using Cluster.Grains.Interfaces.Scheduling;
using Microsoft.Extensions.DependencyInjection;
using static Cluster.Grains.Tests.JobRuns;

namespace Cluster.Grains.Tests;

/// <summary>
/// A device whose operation never returns (<see cref="ComputeHang"/>) throws nothing and keeps its silo alive: only the
/// age of its operation in flight, reported by the node's heartbeat, gives it away. The node turns Unhealthy, the job
/// recovers off it as after a loss, and the loss trajectory stays the reference's.
/// </summary>
public sealed class HungDeviceTests(HungDeviceClusterFixture fixture) : IClassFixture<HungDeviceClusterFixture>
{
    private ISchedulerGrain Scheduler => fixture.Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);

    [Fact]
    public async Task A_hung_device_makes_its_node_unhealthy_and_the_job_moves_off_it_with_the_reference_trajectory()
    {
        var spec = TinyJob.Spec("hung-device", stages: 2, steps: 30, checkpointInterval: 5);
        await using var events = await EventCollector.StartAsync(fixture.Client);
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        await job.Submit(spec);
        var running = await Eventually.Value(job.GetStatus, s => s.CompletedSteps >= 3 || IsFinished(s), Deadline, "the job to pass step 3");
        Assert.False(IsFinished(running), $"the job finished before the hang could be injected: {running.State}");
        var stage = running.Placement.Single(p => p.Stage == 1);
        var hang = fixture.Cluster.Silos.Single(s => s.Name == stage.SiloName).ServiceProvider.GetRequiredService<ComputeHang>();
        hang.Set(stage.NodeId);
        try
        {
            // The heartbeat shows the operation's age growing, then the node reports itself unhealthy with the reason.
            var hung = await Eventually.Value(async () => (await Scheduler.GetNodes()).Single(n => n.Capabilities.NodeId == stage.NodeId),
                n => n.Health is { State: NodeState.Unhealthy }, Deadline, $"node {stage.NodeId} to report itself unhealthy");
            Assert.Contains("device hung", hung.Health!.LastError, StringComparison.Ordinal);
            Assert.True(hung.Health.InFlightOperationMs >= HungDeviceClusterFixture.HangFloor.TotalMilliseconds,
                $"in-flight age {hung.Health.InFlightOperationMs} ms is below the floor {HungDeviceClusterFixture.HangFloor}");

            await Eventually.True(async () => (await job.GetStatus()).Placement.All(p => p.NodeId != stage.NodeId) || IsFinished(await job.GetStatus()),
                Deadline, $"stage 1 to leave the hung node {stage.NodeId}");
            var done = await Finished(job);
            Assert.True(done.State == JobState.Completed, $"job ended {done.State}: {done.Error}");
            Assert.DoesNotContain(done.Placement, p => p.NodeId == stage.NodeId);
            await AssertReferenceTrajectory(job, spec);
            await Eventually.True(() => Task.FromResult(events.Events.Any(e => e.Kind == ClusterEventKind.NodeLost && e.NodeId == stage.NodeId
                    && e.Message.Contains("device hung", StringComparison.Ordinal))),
                TimeSpan.FromSeconds(30), $"a NodeLost event for {stage.NodeId} naming the hang");
        }
        finally
        {
            hang.Clear(stage.NodeId);
        }

        // Released, the operation finishes and the node is Ready again.
        await Eventually.True(async () => (await Scheduler.GetNodes()).Single(n => n.Capabilities.NodeId == stage.NodeId).Health is { State: NodeState.Ready, InFlightOperationMs: 0 },
            Deadline, $"node {stage.NodeId} to be ready again once the hang is released");
    }
}
