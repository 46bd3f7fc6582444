using Cluster.Grains.Jobs;

namespace Cluster.Grains.Tests;

public sealed class StragglerDetectorTests
{
    private static readonly string[] Nodes = ["a/cpu0", "b/cpu0", "c/cpu0"];
    private static readonly double[] EqualCost = [1, 1, 1];

    [Fact]
    public void A_node_slower_than_the_factor_for_the_required_steps_is_reported_once()
    {
        var detector = new StragglerDetector(1.5, 3);
        Assert.Null(detector.Observe(Nodes, [10, 10, 20], EqualCost));
        Assert.Null(detector.Observe(Nodes, [10, 10, 20], EqualCost));
        var found = detector.Observe(Nodes, [10, 10, 20], EqualCost);
        Assert.NotNull(found);
        Assert.Equal("c/cpu0", found.Value.NodeId);
        Assert.Contains("2.0×", found.Value.Reason, StringComparison.Ordinal);
        Assert.Null(detector.Observe(Nodes, [10, 10, 20], EqualCost)); // reported already
    }

    [Fact]
    public void A_fast_step_breaks_the_streak()
    {
        var detector = new StragglerDetector(1.5, 3);
        detector.Observe(Nodes, [10, 10, 20], EqualCost);
        detector.Observe(Nodes, [10, 10, 20], EqualCost);
        Assert.Null(detector.Observe(Nodes, [10, 10, 11], EqualCost));
        Assert.Null(detector.Observe(Nodes, [10, 10, 20], EqualCost));
        Assert.Null(detector.Observe(Nodes, [10, 10, 20], EqualCost));
        Assert.NotNull(detector.Observe(Nodes, [10, 10, 20], EqualCost));
    }

    [Fact]
    public void Time_is_judged_per_unit_of_planned_work()
    {
        // Stage c costs twice as much: twice the time is its normal pace, not a straggler.
        var detector = new StragglerDetector(1.5, 1);
        Assert.Null(detector.Observe(Nodes, [10, 10, 20], [1, 1, 2]));
        Assert.NotNull(detector.Observe(Nodes, [10, 10, 40], [1, 1, 2]));
    }

    [Fact]
    public void Exactly_the_factor_is_not_a_straggler_and_one_node_is_never_judged()
    {
        var detector = new StragglerDetector(1.5, 1);
        Assert.Null(detector.Observe(Nodes, [10, 10, 15], EqualCost));
        Assert.Null(detector.Observe(["a/cpu0", "a/cpu0"], [10, 90], [1, 1])); // both stages on one node
    }

    [Fact]
    public void Reset_forgets_reports_and_streaks()
    {
        var detector = new StragglerDetector(1.5, 1);
        Assert.NotNull(detector.Observe(Nodes, [10, 10, 20], EqualCost));
        detector.Reset();
        Assert.NotNull(detector.Observe(Nodes, [10, 10, 20], EqualCost));
    }

    /// <summary>A report that did not reach the scheduler (<c>JobSchedulerCalls</c>' advice) is made again at the next step while the node still lags, and only then.</summary>
    [Fact]
    public void An_unreported_straggler_is_reported_again_while_its_streak_lasts()
    {
        var detector = new StragglerDetector(1.5, 2);
        Assert.Null(detector.Observe(Nodes, [10, 10, 20], EqualCost));
        Assert.Equal("c/cpu0", detector.Observe(Nodes, [10, 10, 20], EqualCost)?.NodeId);
        detector.Unreported("c/cpu0");
        Assert.Equal("c/cpu0", detector.Observe(Nodes, [10, 10, 20], EqualCost)?.NodeId); // the streak went on
        Assert.Null(detector.Observe(Nodes, [10, 10, 20], EqualCost)); // reported
        detector.Unreported("c/cpu0");
        Assert.Null(detector.Observe(Nodes, [10, 10, 11], EqualCost)); // caught up: the streak ended
    }

    [Fact]
    public void Bad_arguments_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new StragglerDetector(1.0, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => new StragglerDetector(1.5, 0));
        Assert.Throws<ArgumentException>(() => new StragglerDetector(1.5, 1).Observe(Nodes, [1, 2], EqualCost));
    }
}
