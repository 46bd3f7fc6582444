using Cluster.Grains.Compute;
using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Nodes;
using Cluster.Grains.Interfaces.Scheduling;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Cluster.Grains.Tests;

/// <summary>What the device-fault tests share: a silo's fault injection, a job trained a few steps, a node's health, and the recovery story checked.</summary>
internal static class DeviceFaultRuns
{
    public static ComputeFault FaultOn(ClusterFixture fixture, string siloName) =>
        fixture.Cluster.Silos.Single(s => s.Name == siloName).ServiceProvider.GetRequiredService<ComputeFault>();

    /// <summary>Submits <paramref name="spec"/> (its history kept on the primary) and waits until it has run <paramref name="steps"/> steps, unfinished.</summary>
    public static async Task<(ITrainingJobGrain Job, JobStatus Running)> Trained(ClusterFixture fixture, JobSpec spec, long steps)
    {
        await JobHistory.KeepOnPrimary(fixture, spec.JobId);
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        await job.Submit(spec);
        var running = await Eventually.Value(job.GetStatus, s => s.CompletedSteps >= steps || JobRuns.IsFinished(s), JobRuns.Deadline, $"the job to pass step {steps}");
        Assert.False(JobRuns.IsFinished(running), $"the job finished before the fault could be injected: {running.State}");
        return (job, running);
    }

    public static async Task<NodeInfo> Node(ClusterFixture fixture, string nodeId) =>
        (await fixture.Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default).GetNodes()).Single(n => n.Capabilities.NodeId == nodeId);

    /// <summary>
    /// The job's recorded history, after it finished: every recovery restored from memory and recomputed no counted
    /// step. Returns the history and its story (also written to <paramref name="output"/>).
    /// </summary>
    public static async Task<(ClusterEvent[] History, string Story)> CostNoCountedStep(ClusterFixture fixture, string jobId, ITestOutputHelper output)
    {
        var history = await JobHistory.All(fixture, jobId);
        string story = JobHistory.Told(history.Where(e => e.StepsLost > 0 || e.Kind is ClusterEventKind.JobRecovering or ClusterEventKind.JobRestored));
        output.WriteLine(story);
        RecoveryAssert.CostNoCompletedStep(history, story);
        return (history, story);
    }
}
