namespace Cluster.Grains.Interfaces.Jobs;

/// <summary>Names of the Orleans streams the cluster publishes on.</summary>
public static class JobStreams
{
    /// <summary>The stream provider (memory streams in the embedded default).</summary>
    public const string Provider = "cluster";

    /// <summary>Namespace of per-job progress streams; the stream key is the job id.</summary>
    public const string ProgressNamespace = "job-progress";

    /// <summary>Namespace of the cluster's event stream (failures, decisions, recoveries); the key is <see cref="EventsKey"/>.</summary>
    public const string EventsNamespace = "cluster-events";

    public const string EventsKey = "all";
}
