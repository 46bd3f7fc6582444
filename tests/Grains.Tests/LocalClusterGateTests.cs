using Cluster.Grains.Hosting;
using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Scheduling;
using Cluster.Grains.Interfaces.Security;
using Cluster.Grains.Interfaces.Stages;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

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
}
