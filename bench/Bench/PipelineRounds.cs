using System.Globalization;

namespace Cluster.Bench;

/// <summary>
/// The <c>pipeline</c> benchmark's figures over its rounds: each round's <see cref="PipelineRatios"/> set its contenders
/// against the references measured around them (that round's and the next one's), so a host that drifts between rounds
/// moves a round's reference with its contenders instead of skewing every ratio. The <c>RESULT</c> line gives each
/// ratio's median over the rounds as the figure and its lowest (the worst round) beside it.
/// </summary>
internal sealed record PipelineRounds(IReadOnlyList<PipelineRatios> Rounds)
{
    public double Median(Func<PipelineRatios, double> figure) => Bench.Median.Of(Rounds.Select(figure));

    public double Worst(Func<PipelineRatios, double> figure) => Rounds.Min(figure);

    /// <summary>The benchmark's <c>RESULT</c> line: medians over the rounds, the worst round's ratios as <c>_min</c>.</summary>
    public string ResultLine()
    {
        if (Rounds.Count == 0) throw new InvalidOperationException("The pipeline benchmark measured no round.");
        var first = Rounds[0];
        return string.Create(CultureInfo.InvariantCulture,
            $"RESULT ratio_1silo={Median(r => r.Ratio1Silo):F3} ratio_3silo={Median(r => r.Ratio3Silo):F3} ratio_dp2={Median(r => r.RatioDp2):F3} " +
            $"ratio_1silo_min={Worst(r => r.Ratio1Silo):F3} ratio_3silo_min={Worst(r => r.Ratio3Silo):F3} ratio_dp2_min={Worst(r => r.RatioDp2):F3} " +
            $"reference_tokens_per_s={Median(r => r.Reference):F0} reference_1thread_tokens_per_s={Median(r => r.ReferenceOneThread):F0} " +
            $"dp2_tokens_per_s={Median(r => r.DataParallel2):F0} dp2_ceiling={Median(r => r.CeilingDp2):F3} " +
            $"dp2_of_ceiling={Median(r => r.Dp2OfCeiling):F3} dp2_of_ceiling_min={Worst(r => r.Dp2OfCeiling):F3} " +
            $"reference_1thread_x2_tokens_per_s={Median(r => r.TwoReferencesAtOnce):F0} " +
            $"snapshot_interval={first.SnapshotInterval} checkpoint_interval={first.CheckpointInterval} warmup_steps={first.WarmupSteps} rounds={Rounds.Count}");
    }
}
