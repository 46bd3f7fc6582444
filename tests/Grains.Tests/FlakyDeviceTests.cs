using Cluster.Grains.Compute;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Nodes;
using Cluster.Grains.Interfaces.Scheduling;
using Xunit.Abstractions;
using static Cluster.Grains.Tests.DeviceFaultRuns;
using static Cluster.Grains.Tests.JobRuns;

namespace Cluster.Grains.Tests;

/// <summary>
/// A flaky device fails one operation now and then, with good steps between: no run of failures, but each costs its
/// job a recovery. After the error budget (<c>DeviceErrorBudget</c> within <c>DeviceErrorWindow</c>, 5 within 10
/// minutes by default) the node reports itself Unhealthy, and the job moves off it, losing no counted step; the
/// scheduler cordons the node until an operator uncordons it, once per verdict.
/// </summary>
public sealed class FlakyDeviceTests(FlakyDeviceTests.Fixture fixture, ITestOutputHelper output) : IClassFixture<FlakyDeviceTests.Fixture>
{
    /// <summary>A cluster of its own, on the defaults: the flaky node stays out for ten minutes.</summary>
    public sealed class Fixture() : ClusterFixture(3);

    [Fact]
    public async Task A_flaky_device_is_taken_out_after_its_error_budget_and_the_job_moves_off_it()
    {
        var spec = TinyJob.Spec("flaky-device", stages: 2, steps: 120, checkpointInterval: 10);
        var (job, running) = await Trained(fixture, spec, 3);
        var flaky = running.Placement.Single(p => p.Stage == 1);
        var fault = FaultOn(fixture, flaky.SiloName);
        try
        {
            NodeInfo node;
            int errors = 0;
            do
            {
                // The next error after a few good operations, then (while the node is not yet out) good steps.
                fault.Set(flaky.NodeId, ComputeFaultMode.Fail, passing: 5, times: 1);
                await Eventually.True(() => Task.FromResult(!fault.IsSet(flaky.NodeId)), Deadline, $"error {errors + 1} to hit");
                errors++;
                node = await Eventually.Value(() => Node(fixture, flaky.NodeId), n => n.Health?.ErrorCount >= errors, Deadline, $"the node's heartbeat to count error {errors}");
                if (node.Health is { State: NodeState.Unhealthy }) break;
                long after = (await job.GetStatus()).CompletedSteps;
                var status = await Eventually.Value(job.GetStatus, s => s.CompletedSteps >= after + 2 || IsFinished(s), Deadline, $"2 good steps after error {errors}");
                Assert.False(IsFinished(status), $"the job finished with the node still in: {status.State}");
            }
            while (errors < 5);
            Assert.Equal(5, errors);
            node = await Eventually.Value(() => Node(fixture, flaky.NodeId), n => n.Health is { State: NodeState.Unhealthy }, Deadline,
                $"node {flaky.NodeId} to report itself unhealthy after {errors} errors");
            Assert.Contains("flaky device: 5 device errors within 00:10:00", node.Health!.LastError, StringComparison.Ordinal);
            Assert.True(node.Health.FlakyDevice, "the heartbeat does not say the device is flaky");
            var done = await Finished(job);
            Assert.True(done.State == JobState.Completed, $"job ended {done.State}: {done.Error}");
            Assert.DoesNotContain(done.Placement, p => p.NodeId == flaky.NodeId);
        }
        finally
        {
            fault.Clear(flaky.NodeId);
        }
        await AssertReferenceTrajectory(job, spec);
        await CostNoCountedStep(fixture, spec.JobId, output);

        // The scheduler cordoned it for a person to look at: its errors age out in ten minutes, the cordon stays.
        var cordoned = await Eventually.Value(() => Node(fixture, flaky.NodeId), n => n.Cordoned, Deadline, $"the scheduler to cordon {flaky.NodeId}");
        Assert.Contains("flaky device", cordoned.Reason, StringComparison.Ordinal);
        Assert.Contains("cordoned by the scheduler", cordoned.Reason, StringComparison.Ordinal);
        // An operator who uncordons it (the device was replaced) is not overruled while its old errors age out.
        await Scheduler.Uncordon(flaky.NodeId);
        long sequence = (await Node(fixture, flaky.NodeId)).Health!.Sequence;
        var later = await Eventually.Value(() => Node(fixture, flaky.NodeId), n => n.Health!.Sequence >= sequence + 5, Deadline, "five more heartbeats");
        Assert.True(later.Health!.FlakyDevice, "the node forgot its errors: the test no longer shows an uncordon outlasting the verdict");
        Assert.False(later.Cordoned, $"the scheduler cordoned {flaky.NodeId} again after an operator uncordoned it: {later.Reason}");
    }

    private ISchedulerGrain Scheduler => fixture.Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);
}
