using Cluster.Grains.Nodes;

namespace Cluster.Grains.Tests;

public sealed class LatencyHistogramTests
{
    [Fact]
    public void Quantiles_are_the_upper_edge_of_their_half_millisecond_bucket_and_the_overflow_reports_the_maximum()
    {
        var h = new LatencyHistogram();
        Assert.Equal(0, h.Quantile(0.99));
        for (int i = 1; i <= 100; i++) h.Record(i); // 1 … 100 ms
        Assert.Equal(100, h.Count);
        Assert.Equal(50.5, h.Quantile(0.50)); // the 50th value, 50 ms, is in [50, 50.5)
        Assert.Equal(99.5, h.Quantile(0.99));
        Assert.Equal(100, h.Quantile(1.0));   // never above the maximum
        h.Record(5_000);
        Assert.Equal(5_000, h.Quantile(1.0));
        Assert.Equal(5_000, h.Max);
        h.Clear();
        Assert.Equal((0, 0.0), (h.Count, h.Quantile(0.5)));
    }
}
