namespace Cluster.Silo.Health;

/// <summary>The three probe paths and the health-check tags that select what each one runs.</summary>
public static class HealthProbes
{
    /// <summary>Joined the cluster and every node calibrated: Kubernetes holds the other probes until this passes once.</summary>
    public const string StartupPath = "/health/startup";

    /// <summary>Accepting stages: joined, not draining, checkpoint store reachable. Failing takes the pod out of the gateway Service.</summary>
    public const string ReadyPath = "/health/ready";

    /// <summary>Device workers making progress. Failing restarts the silo: only for what a restart fixes.</summary>
    public const string LivePath = "/health/live";

    public const string StartupTag = "startup";
    public const string ReadyTag = "ready";
    public const string LiveTag = "live";
}
