using Cluster.Grains.Jobs;

namespace Cluster.Grains.Tests;

/// <summary>Which reasons for waiting a job's history records again: another reason, not the same one with newer figures.</summary>
public sealed class ReasonShapeTests
{
    [Fact]
    public void Reasons_that_differ_only_in_their_figures_have_one_shape_and_other_reasons_another()
    {
        string warmingUp = ReasonShape.Of("the scheduler started 0.28 s ago; nodes re-register within 5.00 s");
        Assert.Equal(warmingUp, ReasonShape.Of("the scheduler started 3.71 s ago; nodes re-register within 5.00 s"));
        Assert.Equal("the scheduler started # s ago; nodes re-register within # s", warmingUp);
        Assert.NotEqual(warmingUp, ReasonShape.Of("Team 'quota-team' quota is 1 node(s) but job quota needs 2"));
    }
}
