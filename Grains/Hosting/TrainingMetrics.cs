using System.Diagnostics.Metrics;

namespace Cluster.Grains.Hosting;

/// <summary>
/// The training cluster's OpenTelemetry instruments (meter <see cref="MeterName"/>): steps and tokens (rates give
/// steps/s and tokens/s), loss, step and checkpoint-commit durations, recoveries, and heartbeat lag. Recording costs
/// next to nothing until a listener (e.g. the silo's Prometheus endpoint) subscribes.
/// </summary>
public static class TrainingMetrics
{
    public const string MeterName = "Cluster.Training";

    private static readonly Meter s_meter = new(MeterName);
    private static readonly Counter<long> s_steps = s_meter.CreateCounter<long>("cluster.training.steps", "{step}", "Optimizer steps completed");
    private static readonly Counter<long> s_tokens = s_meter.CreateCounter<long>("cluster.training.tokens", "{token}", "Tokens trained on");
    private static readonly Gauge<double> s_loss = s_meter.CreateGauge<double>("cluster.training.loss", null, "Loss of the latest step");
    private static readonly Histogram<double> s_stepDuration = s_meter.CreateHistogram<double>("cluster.training.step.duration", "s", "Wall time of one optimizer step");
    private static readonly Counter<long> s_recoveries = s_meter.CreateCounter<long>("cluster.training.recoveries", "{recovery}", "Failures a job recovered from");
    private static readonly Histogram<double> s_checkpointCommit = s_meter.CreateHistogram<double>("cluster.checkpoint.commit.duration", "s", "From durable shards to a committed manifest");
    private static readonly Gauge<double> s_deviceUtilization = s_meter.CreateGauge<double>("cluster.node.device.utilization", null, "Share (0-1) of the time between a node's last two heartbeats that its device ran operations");
    private static readonly Gauge<double> s_heartbeatLag = s_meter.CreateGauge<double>("cluster.node.heartbeat.lag", "s", "Age of a node's heartbeat when the scheduler received it");

    public static void StepCompleted(string jobId, long tokens, double loss, TimeSpan duration)
    {
        var job = new KeyValuePair<string, object?>("job", jobId);
        s_steps.Add(1, job);
        s_tokens.Add(tokens, job);
        s_loss.Record(loss, job);
        s_stepDuration.Record(duration.TotalSeconds, job);
    }

    public static void Recovering(string jobId) => s_recoveries.Add(1, new KeyValuePair<string, object?>("job", jobId));

    public static void CheckpointCommitted(string jobId, TimeSpan duration) =>
        s_checkpointCommit.Record(duration.TotalSeconds, new KeyValuePair<string, object?>("job", jobId));

    /// <summary>A node's heartbeat arrived: its lag, and its device utilization when the node knows it (not before its second heartbeat).</summary>
    public static void Heartbeat(string nodeId, TimeSpan lag, double? deviceUtilization)
    {
        var node = new KeyValuePair<string, object?>("node", nodeId);
        s_heartbeatLag.Record(Math.Max(0, lag.TotalSeconds), node);
        if (deviceUtilization is { } utilization) s_deviceUtilization.Record(utilization, node);
    }
}
