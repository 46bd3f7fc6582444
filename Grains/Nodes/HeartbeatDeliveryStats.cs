namespace Cluster.Grains.Nodes;

/// <summary>Heartbeats delivered since the last reset and their latency percentiles, from sending to the scheduler's acknowledgement.</summary>
public sealed record HeartbeatDeliveryStats(long Delivered, long Failed, int Batches, double P50Ms, double P99Ms, double MaxMs);
