namespace Cluster.Bench.Fuzz;

/// <summary>Outcomes of one fuzz target.</summary>
internal sealed class FuzzTally
{
    public long Accepted { get; set; }

    public long Refused { get; set; }

    public long Crashes { get; set; }

    public long Hangs { get; set; }

    public long Cases => Accepted + Refused + Crashes;

    public TimeSpan Slowest { get; set; }
}
