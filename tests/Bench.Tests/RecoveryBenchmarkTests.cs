namespace Cluster.Bench.Tests;

public sealed class RecoveryBenchmarkTests
{
    [Theory]
    [InlineData(new[] { "--replicas", "2" }, "--replicas 2 × --stages 4")] // the default 4 stages: 8 grains, 4 slots left after a loss
    [InlineData(new[] { "--replicas", "0" }, "--replicas must be at least 1")]
    [InlineData(new[] { "--stages", "5" }, "--replicas 1 × --stages 5")]
    [InlineData(new[] { "--failures", "reboot" }, "--failures 'reboot'")]
    [InlineData(new[] { "--failures", "device-error,reboot" }, "kill, stop, device-hang, device-error")]
    public async Task Bad_options_are_refused_before_a_cluster_starts(string[] arguments, string named)
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => RecoveryBenchmark.RunAsync(BenchArguments.Parse(arguments)));
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }
}
