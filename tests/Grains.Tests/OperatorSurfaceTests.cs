using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Nodes;
using Cluster.Grains.Interfaces.Scheduling;
using Cluster.Grains.Interfaces.Security;
using Cluster.Grains.Interfaces.Stages;

namespace Cluster.Grains.Tests;

/// <summary>
/// The client gate without TLS: a client (this test's Orleans client, like the console) reaches the operator-facing
/// methods only; the silo's own services (node start-up, heartbeats) and grain-to-grain calls are untouched.
/// </summary>
public sealed class OperatorSurfaceTests(OperatorSurfaceClusterFixture fixture) : IClassFixture<OperatorSurfaceClusterFixture>
{
    [Fact]
    public async Task A_client_cannot_call_internal_methods()
    {
        var scheduler = fixture.Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);
        string node = (await scheduler.GetNodes())[0].Capabilities.NodeId;
        var refusals = new (string Call, Func<Task> Attempt)[]
        {
            ("ICheckpointShardGrain.Accept", () => fixture.Client.GetGrain<ICheckpointShardGrain>(StageKeys.Shard("surface-job", 0)).Accept(1, 5, 0, [], durable: false)),
            ("ISchedulerGrain.Release", () => scheduler.Release("surface-job")),
            ("ISchedulerGrain.Heartbeat", () => scheduler.Heartbeat(null!)),
            ("ISchedulerGrain.Enqueue", () => scheduler.Enqueue(null!)),
            ("ISchedulerGrain.ReportUnreachable", () => scheduler.ReportUnreachable("surface-job", [node], "forged")),
            ("ITrainingJobGrain.NodesLost", () => fixture.Client.GetGrain<ITrainingJobGrain>("surface-job").NodesLost([node], "forged")),
            ("IJobRegistryGrain.Add", () => fixture.Client.GetGrain<IJobRegistryGrain>(JobRegistryKeys.Default).Add("surface-job")),
            ("INodeGrain.Start", () => fixture.Client.GetGrain<INodeGrain>(node).Start()),
        };
        foreach (var (call, attempt) in refusals)
        {
            var error = await Assert.ThrowsAsync<AccessDeniedException>(attempt);
            Assert.Contains(call, error.Message, StringComparison.Ordinal);
            Assert.Contains("internal to the cluster", error.Message, StringComparison.Ordinal);
        }

        // Nothing reached the grains: the node still heartbeats and takes stages, and no job was registered.
        Assert.Contains(node, (await scheduler.GetNodes()).Where(n => !n.Lost && n.Health is not null).Select(n => n.Capabilities.NodeId));
        Assert.DoesNotContain("surface-job", await fixture.Client.GetGrain<IJobRegistryGrain>(JobRegistryKeys.Default).GetAll());
    }

    [Fact]
    public async Task A_client_cannot_release_a_running_jobs_stage()
    {
        var spec = TinyJob.Spec("surface-live", stages: 2, steps: 400, checkpointInterval: 0);
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        await job.Submit(spec);
        var running = await Eventually.Value(job.GetStatus, s => s.CompletedSteps >= 1 || s.State is JobState.Failed or JobState.Completed,
            TimeSpan.FromMinutes(2), "the job to complete a step");
        Assert.True(running.State == JobState.Running, $"job is {running.State}: {running.Error}");
        var stage = fixture.Client.GetGrain<IPipelineStageGrain>(StageKeys.Stage(spec.JobId, 0, 0));
        var error = await Assert.ThrowsAsync<AccessDeniedException>(() => stage.Release(running.Epoch));
        Assert.Contains("IPipelineStageGrain.Release is internal to the cluster", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<AccessDeniedException>(() => stage.ApplyUpdate(running.Epoch, running.CompletedSteps, 1.0));

        // The job trains on, untouched.
        await Eventually.True(async () => (await job.GetStatus()).CompletedSteps >= running.CompletedSteps + 2, TimeSpan.FromMinutes(2),
            "the job to keep stepping");
        Assert.Equal(JobState.Cancelled, (await job.Cancel()).State);
    }

    [Fact]
    public async Task The_operator_surface_works_and_the_cluster_trains_behind_it()
    {
        // The nodes registered through the silo's own services (not a client), and reads work.
        var scheduler = fixture.Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);
        Assert.Equal(ClusterFixture.SlotsPerSilo, (await scheduler.GetNodes()).Count);
        Assert.NotNull(await scheduler.GetQueue());
        var hosts = await fixture.Client.GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: true);
        Assert.Single(hosts);

        // A job submitted by a client trains to completion: every grain-to-grain call of the job passes the gate.
        var spec = TinyJob.Spec("surface-train", stages: 2, steps: 4, checkpointInterval: 2);
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        await job.Submit(spec);
        var done = await Eventually.Value(job.GetStatus, s => s.State is JobState.Completed or JobState.Failed, TimeSpan.FromMinutes(3), "the job to finish");
        Assert.True(done.State == JobState.Completed, $"job is {done.State}: {done.Error}");
        Assert.Equal(4, (await job.GetLossHistory()).Count);
        Assert.NotEmpty(await job.ListCheckpoints());

        // Node actions are operator-facing.
        string node = (await scheduler.GetNodes())[0].Capabilities.NodeId;
        Assert.True((await scheduler.Cordon(node)).Cordoned);
        Assert.False((await scheduler.Uncordon(node)).Cordoned);
    }

    [Fact]
    public async Task A_client_cannot_change_the_runtime_through_the_management_grain()
    {
        var management = fixture.Client.GetGrain<IManagementGrain>(0);
        var error = await Assert.ThrowsAsync<AccessDeniedException>(() => management.ForceGarbageCollection([]));
        Assert.Contains("IManagementGrain.ForceGarbageCollection", error.Message, StringComparison.Ordinal);
    }
}
