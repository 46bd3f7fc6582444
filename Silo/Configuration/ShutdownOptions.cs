namespace Cluster.Silo.Configuration;

/// <summary>Graceful shutdown (section <c>Shutdown</c>): how long a stopping silo waits for its nodes' stages to move away.</summary>
public sealed class ShutdownOptions
{
    public const string Section = "Shutdown";

    /// <summary>Drain this silo's nodes before leaving the cluster. <value>true.</value></summary>
    public bool Drain { get; set; } = true;

    /// <summary>Longest wait for the stages to move and for moved grains to take the copies they left on this silo; then the silo leaves anyway (jobs recover as after a failure). <value>60 s.</value></summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(60);

    public IReadOnlyList<string> Validate() => DrainTimeout <= TimeSpan.Zero
        ? [$"{nameof(DrainTimeout)} = {DrainTimeout} must be positive, e.g. 00:01:00."]
        : [];
}
