namespace Cluster.Bench.Tests;

public sealed class MedianTests
{
    [Fact]
    public void The_median_is_the_middle_value_or_the_mean_of_the_middle_two_whatever_the_order()
    {
        Assert.Equal(0.03, Median.Of([0.5, -0.2, 0.03]), 12);
        Assert.Equal(0.02, Median.Of([0.04, -0.5, 0.0, 9.0]), 12);
        Assert.Equal(7.0, Median.Of([7.0]), 12);
        Assert.Throws<ArgumentException>(() => Median.Of([]));
    }
}
