namespace Cluster.Grains.Jobs;

/// <summary>The job cannot run on this cluster even when every node is healthy (the model does not fit).</summary>
internal sealed class JobUnplaceableException(string message) : Exception(message);
