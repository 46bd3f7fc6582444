using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Telemetry;
using Cluster.Grains.Tests;

namespace Cluster.Silo.Tests;

/// <summary>With Observability:OtlpEndpoint set, a silo process sends metrics, traces and logs over OTLP to a collector.</summary>
public sealed class OtlpExportTests
{
    [Fact]
    public async Task A_silo_sends_training_metrics_grain_call_and_training_spans_and_logs_over_OTLP()
    {
        using var collector = new OtlpReceiver();
        await using var cluster = new ProcessCluster();
        int[] ports = SiloProcess.FreePorts(2);
        cluster.StartSilo("silo-a",
        [
            "--Orleans:SiloName=silo-a", $"--Orleans:SiloPort={ports[0]}", $"--Orleans:GatewayPort={ports[1]}",
            "--TrainingCluster:DeviceSlots=1", "--TrainingCluster:ThreadsPerSlot=1", $"--TrainingCluster:DataRoot={Path.Combine(cluster.WorkRoot, "data")}",
            $"--Observability:OtlpEndpoint={collector.Endpoint}", "--Observability:OtlpProtocol=HttpProtobuf",
        ],
        // Export often, so the test need not wait a minute for the SDK's default metric interval.
        new Dictionary<string, string> { ["OTEL_METRIC_EXPORT_INTERVAL"] = "1000", ["OTEL_BSP_SCHEDULE_DELAY"] = "500", ["OTEL_BLRP_SCHEDULE_DELAY"] = "500" });
        var client = await cluster.ConnectAsync(c => c.UseLocalhostClustering(ports[1]), TimeSpan.FromMinutes(2));
        await cluster.WaitForNodesAsync(client, 1);

        var spec = TinyJob.Spec($"otlp-{cluster.Suffix}", stages: 1, steps: 3, checkpointInterval: 2);
        var job = client.GetGrain<ITrainingJobGrain>(spec.JobId);
        await job.Submit(spec);
        await cluster.WaitAsync(async () => (await job.GetStatus()).State == JobState.Completed, TimeSpan.FromMinutes(2), "the job to complete");

        await cluster.WaitAsync(() => Task.FromResult(collector.Received("/v1/metrics").Contains("cluster.training.steps", StringComparison.Ordinal)
                && collector.Received("/v1/metrics").Contains(spec.JobId, StringComparison.Ordinal)),
            TimeSpan.FromMinutes(1), "the training step counter of the job at /v1/metrics");
        // Orleans' grain-call spans (activity propagation is on), e.g. the job grain's Submit.
        await cluster.WaitAsync(() => Task.FromResult(collector.Received("/v1/traces").Contains("Submit", StringComparison.Ordinal)),
            TimeSpan.FromMinutes(1), $"grain-call spans at /v1/traces (paths so far: {string.Join(", ", collector.Paths)})");
        // The training cluster's own spans (Cluster.Training): steps and checkpoint commits.
        await cluster.WaitAsync(() => Task.FromResult(collector.Received("/v1/traces").Contains(TrainingActivities.StepName, StringComparison.Ordinal)
                && collector.Received("/v1/traces").Contains(TrainingActivities.CheckpointCommitName, StringComparison.Ordinal)),
            TimeSpan.FromMinutes(1), "the training step and checkpoint commit spans at /v1/traces");
        await cluster.WaitAsync(() => Task.FromResult(collector.Received("/v1/logs").Contains("Effective configuration", StringComparison.Ordinal)),
            TimeSpan.FromMinutes(1), "the silo's start-up log at /v1/logs");
        Assert.Contains("cluster-silo", collector.Received("/v1/metrics"), StringComparison.Ordinal); // service.name
        Assert.Contains("System.Runtime", collector.Received("/v1/metrics"), StringComparison.Ordinal); // runtime metrics
    }
}
