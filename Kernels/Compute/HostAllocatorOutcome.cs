namespace Cluster.Kernels.Compute;

/// <summary>What <see cref="HostAllocator.Tune"/> did, and why, in words an operator reads in the silo's log.</summary>
public sealed record HostAllocatorOutcome(HostAllocatorChoice Choice, string Detail);
