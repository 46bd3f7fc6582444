namespace Cluster.Grains.Compute;

/// <summary>A device result with the time it waited in the queue and the time it ran.</summary>
public readonly record struct Timed<T>(T Value, TimeSpan Queued, TimeSpan Ran);
