using System.Text.RegularExpressions;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Stages;
using Xunit.Abstractions;

namespace Cluster.Grains.Tests;

/// <summary>
/// A stage's configuration whose node is reported lost while it is under way is abandoned at once, and the job places
/// again: the call may never be answered. Seen in KillDuringLeaveProcessTests (seeds 12–15): a leaving silo forwarded a
/// configuration to the silo its stage was migrating to, that silo was killed with the call in flight, and the job —
/// and the leave, which waits for the job's next step — stalled for the 30 s response timeout. Here the configuration is
/// held before it is sent, so nothing but the loss notice can end the wait.
/// </summary>
public sealed partial class ConfigurationNodeLossTests(CoordinatorStopClusterFixture fixture, ITestOutputHelper output) : IClassFixture<CoordinatorStopClusterFixture>
{
    [GeneratedRegex(@"/r\d+/s(\d+)\.Configure$")]
    private static partial Regex HeldStage();

    [Fact]
    public async Task A_configuration_whose_node_is_reported_lost_is_abandoned_and_the_job_trains_on_without_it()
    {
        var spec = TinyJob.Spec("configure-node-lost", stages: 2, steps: 60, checkpointInterval: 10);
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        await job.Submit(spec);
        var running = await Eventually.Value(job.GetStatus, s => s.CompletedSteps >= 4 || JobRuns.IsFinished(s), TimeSpan.FromMinutes(2), "the job to pass step 4");
        Assert.True(running.State is JobState.Running or JobState.Checkpointing, $"job is {running.State}: {running.Error}");

        fixture.Outgoing.Arm(c => c.InterfaceMethod.Name == nameof(IPipelineStageGrain.Configure) && c.TargetId.ToString().Contains(spec.JobId, StringComparison.Ordinal));
        try
        {
            await job.NodesLost([running.Placement[0].NodeId], "test: a node lost, so that the job places again");
            string held = await fixture.Outgoing.Reached.WaitAsync(TimeSpan.FromMinutes(1));
            var placing = await job.GetStatus();
            int stage = int.Parse(HeldStage().Match(held).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            string node = placing.Placement.Single(p => p.Stage == stage).NodeId;
            output.WriteLine($"held {held} at step {placing.CompletedSteps}, epoch {placing.Epoch}; reporting its node {node} lost");
            await job.NodesLost([node], "test: the node of the held configuration was lost");

            // The held call is never answered while the job goes on: only the loss notice ended the wait for it.
            var after = await Eventually.Value(job.GetStatus, s => s.Epoch > placing.Epoch && s.CompletedSteps >= placing.CompletedSteps + 3 || JobRuns.IsFinished(s),
                TimeSpan.FromMinutes(2), "the job to place again and train on while the configuration stays held");
            Assert.True(after.State is JobState.Running or JobState.Checkpointing, $"job is {after.State}: {after.Error}");
        }
        finally
        {
            fixture.Outgoing.Fail(new TimeoutException("test: the held configuration timed out"));
        }
        var done = await JobRuns.Finished(job);
        Assert.True(done.State == JobState.Completed, $"job ended {done.State}: {done.Error}");
        await JobRuns.AssertReferenceTrajectory(job, spec);
    }
}
