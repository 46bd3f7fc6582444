namespace Cluster.Bench.Simulation;

/// <summary>Wall-clock seconds one category of interruptions cost, by phase of the recovery.</summary>
internal sealed class LostTime
{
    public int Interruptions { get; set; }
    public double Detection { get; set; }
    public double WaitingForCapacity { get; set; }
    public double Restart { get; set; }
    public double Restore { get; set; }

    /// <summary>Work done after the restored step (and the snapshot stalls that went with it), thrown away and done again.</summary>
    public double Recompute { get; set; }

    public double Total => Detection + WaitingForCapacity + Restart + Restore + Recompute;
}
