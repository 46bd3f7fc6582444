using Cluster.Grains.Compute;
using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Nodes;
using Cluster.Grains.Interfaces.Scheduling;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;
using static Cluster.Grains.Tests.JobRuns;

namespace Cluster.Grains.Tests;

/// <summary>
/// A flaky device fails one operation now and then, with good steps between: no run of failures, but each costs its
/// job a recovery. After the error budget (<c>DeviceErrorBudget</c> within <c>DeviceErrorWindow</c>, 5 within 10
/// minutes by default) the node reports itself Unhealthy, and the job moves off it, losing no counted step.
/// </summary>
public sealed class FlakyDeviceTests(FlakyDeviceTests.Fixture fixture, ITestOutputHelper output) : IClassFixture<FlakyDeviceTests.Fixture>
{
    /// <summary>A cluster of its own, on the defaults: the flaky node stays out for ten minutes.</summary>
    public sealed class Fixture() : ClusterFixture(3);

    private ISchedulerGrain Scheduler => fixture.Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);

    [Fact]
    public async Task A_flaky_device_is_taken_out_after_its_error_budget_and_the_job_moves_off_it()
    {
        var spec = TinyJob.Spec("flaky-device", stages: 2, steps: 120, checkpointInterval: 10);
        await JobHistory.KeepOnPrimary(fixture, spec.JobId);
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        await job.Submit(spec);
        var status = await Eventually.Value(job.GetStatus, s => s.CompletedSteps >= 3 || IsFinished(s), Deadline, "the job to pass step 3");
        var flaky = status.Placement.Single(p => p.Stage == 1);
        var fault = fixture.Cluster.Silos.Single(s => s.Name == flaky.SiloName).ServiceProvider.GetRequiredService<ComputeFault>();
        NodeInfo node = null!;
        try
        {
            for (int error = 1; error <= 8; error++)
            {
                // The next error after a few good operations; each one here is followed by good steps.
                fault.Set(flaky.NodeId, ComputeFaultMode.Fail, passing: 5, times: 1);
                await Eventually.True(async () => !fault.IsSet(flaky.NodeId) || IsFinished(await job.GetStatus()), Deadline, $"error {error} to hit");
                node = await NodeOf(flaky.NodeId);
                if (node.Health is { State: NodeState.Unhealthy } || IsFinished(await job.GetStatus())) break;
                long after = (await job.GetStatus()).CompletedSteps;
                await Eventually.True(async () => await job.GetStatus() is var s && (s.CompletedSteps >= after + 2 || IsFinished(s) || s.Placement.All(p => p.NodeId != flaky.NodeId)),
                    Deadline, $"2 good steps after error {error}");
                node = await NodeOf(flaky.NodeId);
                if (node.Health is { State: NodeState.Unhealthy }) break;
            }
            node = await Eventually.Value(() => NodeOf(flaky.NodeId), n => n.Health is { State: NodeState.Unhealthy }, TimeSpan.FromSeconds(30), $"node {flaky.NodeId} to report itself unhealthy");
            Assert.Contains("flaky device: 5 device errors within 00:10:00", node.Health!.LastError, StringComparison.Ordinal);
            Assert.Equal(5, fault.Hits(flaky.NodeId));
            var done = await Finished(job);
            Assert.True(done.State == JobState.Completed, $"job ended {done.State}: {done.Error}");
            Assert.DoesNotContain(done.Placement, p => p.NodeId == flaky.NodeId);
        }
        finally
        {
            fault.Clear(flaky.NodeId);
        }
        await AssertReferenceTrajectory(job, spec);
        var history = await JobHistory.All(fixture, spec.JobId);
        string story = JobHistory.Told(history.Where(e => e.StepsLost > 0 || e.Kind is ClusterEventKind.JobRecovering or ClusterEventKind.JobRestored));
        output.WriteLine(story);
        RecoveryAssert.CostNoCompletedStep(history, story);
    }

    private async Task<NodeInfo> NodeOf(string nodeId) => (await Scheduler.GetNodes()).Single(n => n.Capabilities.NodeId == nodeId);
}
