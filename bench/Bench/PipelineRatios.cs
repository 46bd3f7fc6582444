namespace Cluster.Bench;

/// <summary>
/// The <c>pipeline</c> benchmark's figures from its contenders' tokens/s: each pipeline against the reference trainer
/// on all cores, and 2 data-parallel replicas (two 1-thread device slots) against twice the 1-thread reference, so
/// perfect scaling is 1 for every ratio. <see cref="TwoReferencesAtOnce"/>, two 1-thread reference trainers run at the
/// same time in two processes that share nothing but the machine, gives this machine's own ceiling for 2-way data
/// parallelism: what two cores deliver together against one core alone, with no communication at all. One round's
/// figures; <see cref="PipelineRounds"/> gives them over every round.
/// </summary>
internal sealed record PipelineRatios(double Reference, double OneSilo, double ThreeSilos, double ReferenceOneThread, double DataParallel2,
    int SnapshotInterval, int CheckpointInterval, int WarmupSteps, double TwoReferencesAtOnce)
{
    public double Ratio1Silo => OneSilo / Reference;

    public double Ratio3Silo => ThreeSilos / Reference;

    /// <summary>2 replicas × 1 stage on two 1-thread slots ÷ (2 × the 1-thread reference).</summary>
    public double RatioDp2 => DataParallel2 / (2 * ReferenceOneThread);

    /// <summary>Two 1-thread reference trainers at once (tokens/s summed) ÷ (2 × the 1-thread reference alone): no data-parallel system can beat it here.</summary>
    public double CeilingDp2 => TwoReferencesAtOnce / (2 * ReferenceOneThread);

    /// <summary><see cref="RatioDp2"/> ÷ <see cref="CeilingDp2"/>: the share of the machine's own 2-way scaling the job keeps (its overhead apart from the hardware's).</summary>
    public double Dp2OfCeiling => DataParallel2 / TwoReferencesAtOnce;
}
