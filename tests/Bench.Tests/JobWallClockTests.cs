namespace Cluster.Bench.Tests;

/// <summary>The wall clock polls fast only near the ends of its window, where the poll sets its precision.</summary>
public sealed class JobWallClockTests
{
    [Theory]
    [InlineData(0, false, 100)]   // warming up, far from its end
    [InlineData(78, false, 100)]
    [InlineData(79, false, 10)]   // a step from the warm-up's end: the window's start is near
    [InlineData(80, false, 10)]
    [InlineData(80, true, 100)]   // measuring, far from the last step
    [InlineData(98, true, 100)]
    [InlineData(99, true, 10)]    // a step from the last one: the window's end is near
    [InlineData(100, true, 10)]
    public void Polls_every_10_ms_within_a_step_of_the_end_it_waits_for_and_every_100_ms_elsewhere(long completed, bool measuring, int expectedMs) =>
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), JobWallClock.PollDelay(completed, warmup: 80, steps: 100, measuring));
}
