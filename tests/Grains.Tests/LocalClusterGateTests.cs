using Cluster.Grains.Hosting;
using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Scheduling;
using Cluster.Grains.Interfaces.Security;
using Cluster.Grains.Interfaces.Stages;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using Orleans.Streams;

namespace Cluster.Grains.Tests;

/// <summary>
/// The in-process demo cluster runs behind the client gate: a console connected to its loopback gateway is the local
/// user (admin) and reaches the operator surface only, while the silos' own calls (stamped with the cluster's
/// per-process secret) train a job on two silos.
/// </summary>
public sealed class LocalClusterGateTests
{
    [Fact]
    public async Task An_outside_client_reaches_only_the_operator_surface_and_a_job_trains_behind_the_gate()
    {
        string dataRoot = Path.Combine(Path.GetTempPath(), "cluster-tests", "local-gate-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dataRoot);
        await using var cluster = await LocalCluster.StartAsync(silos: 2, slotsPerSilo: 1, threadsPerSlot: 1, dataRoot);
        await cluster.WaitForNodesAsync(2, TimeSpan.FromSeconds(60));

        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.UseOrleansClient(client => client.UseLocalhostClustering(cluster.GatewayPort, "cluster-demo", cluster.ClusterId));
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            var console = host.Services.GetRequiredService<IClusterClient>();
            var scheduler = console.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);
            Assert.Equal(2, (await scheduler.GetNodes()).Count);
            var error = await Assert.ThrowsAsync<AccessDeniedException>(() =>
                console.GetGrain<ICheckpointShardGrain>(StageKeys.Shard("local-gate", 0)).Accept(1, 5, 0, [], durable: false));
            Assert.Contains("ICheckpointShardGrain.Accept is internal to the cluster", error.Message, StringComparison.Ordinal);

            var spec = TinyJob.Spec("local-gate", stages: 2, steps: 4, checkpointInterval: 2);
            var job = console.GetGrain<ITrainingJobGrain>(spec.JobId);
            await job.Submit(spec);
            var done = await Eventually.Value(job.GetStatus, s => s.State is JobState.Completed or JobState.Failed, TimeSpan.FromMinutes(3), "the job to finish");
            Assert.True(done.State == JobState.Completed, $"job is {done.State}: {done.Error}");
        }
        finally
        {
            await host.StopAsync();
            Directory.Delete(dataRoot, recursive: true);
        }
    }

    /// <summary>
    /// The demo's own client is the silo's hosted client: its progress and event subscriptions must get their items
    /// through the gate (the pulling agent's deliveries carry no silo stamp). Once they were refused, and the demo showed
    /// no progress, no events and never reached its <c>--kill-at</c> step.
    /// </summary>
    [Fact]
    public async Task The_in_process_clusters_own_client_receives_progress_and_events()
    {
        string dataRoot = Path.Combine(Path.GetTempPath(), "cluster-tests", "local-streams-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dataRoot);
        await using var cluster = await LocalCluster.StartAsync(silos: 2, slotsPerSilo: 1, threadsPerSlot: 1, dataRoot);
        try
        {
            await cluster.WaitForNodesAsync(2, TimeSpan.FromSeconds(60));
            var spec = TinyJob.Spec("local-streams", stages: 2, steps: 6, checkpointInterval: 3);
            var provider = cluster.Client.GetStreamProvider(JobStreams.Provider);
            var progress = new System.Collections.Concurrent.ConcurrentQueue<JobProgress>();
            var events = new System.Collections.Concurrent.ConcurrentQueue<ClusterEvent>();
            var progressSubscription = await provider.GetStream<JobProgress>(StreamId.Create(JobStreams.ProgressNamespace, spec.JobId))
                .SubscribeAsync((p, _) => { progress.Enqueue(p); return Task.CompletedTask; });
            var eventSubscription = await provider.GetStream<ClusterEvent>(StreamId.Create(JobStreams.EventsNamespace, JobStreams.EventsKey))
                .SubscribeAsync((e, _) => { events.Enqueue(e); return Task.CompletedTask; });

            var job = cluster.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
            await job.Submit(spec);
            await job.Pause("to see an event");
            await Eventually.True(() => Task.FromResult(progress.Any(p => p.JobId == spec.JobId)), TimeSpan.FromMinutes(2), "a progress item on the demo client's subscription");
            await Eventually.True(() => Task.FromResult(events.Any(e => e.JobId == spec.JobId)), TimeSpan.FromMinutes(2), "an event of the job on the demo client's subscription");
            await progressSubscription.UnsubscribeAsync();
            await eventSubscription.UnsubscribeAsync();
        }
        finally
        {
            Directory.Delete(dataRoot, recursive: true);
        }
    }
}
