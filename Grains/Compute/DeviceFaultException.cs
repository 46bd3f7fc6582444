namespace Cluster.Grains.Compute;

/// <summary>An operation on a device failed because a fault was injected there (<see cref="ComputeFault"/>); crosses grain calls like a device's own error.</summary>
[GenerateSerializer, Alias("cluster.DeviceFaultException")]
public sealed class DeviceFaultException(string message) : Exception(message);
