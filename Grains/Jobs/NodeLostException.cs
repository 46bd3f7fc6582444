namespace Cluster.Grains.Jobs;

/// <summary>The scheduler reported one of the job's nodes lost while a step was in flight.</summary>
internal sealed class NodeLostException(string message) : Exception(message);
