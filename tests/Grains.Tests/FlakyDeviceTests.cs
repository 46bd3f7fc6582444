using Cluster.Grains.Compute;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Nodes;
using Xunit.Abstractions;
using static Cluster.Grains.Tests.DeviceFaultRuns;
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
    }
}
