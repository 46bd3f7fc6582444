namespace Cluster.Bench.Tests;

public sealed class InterleavedCostTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 5, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Start times from per-step durations: step i starts when the steps before it have run.</summary>
    private static (long Step, DateTimeOffset StartedAt)[] Starts(IEnumerable<double> durationsMs)
    {
        var starts = new List<(long, DateTimeOffset)>();
        var at = T0;
        long step = 0;
        foreach (double ms in durationsMs)
        {
            starts.Add((step++, at));
            at += TimeSpan.FromMilliseconds(ms);
        }
        return [.. starts];
    }

    [Fact]
    public void An_event_that_slows_the_two_intervals_after_its_boundary_costs_what_it_added_whatever_the_drift()
    {
        // 100 ms steps drifting up 1 ms per step; every 4th boundary (4, 8, …) adds 6 ms to the interval ending at step b's
        // start (its copy) and 14 ms to the next one (its work beside step b): 20 ms per event.
        var durations = Enumerable.Range(0, 64).Select(i => 100.0 + i).ToArray();
        for (int b = 4; b < durations.Length; b += 4)
        {
            durations[b - 1] += 6; // the interval from step b−1's start to step b's
            durations[b] += 14;
        }
        var estimate = InterleavedCost.Of(Starts(durations), period: 4, affected: 2, clean: 2, fromStep: 0);

        Assert.Equal(20, estimate.MeanCostMs, 6);
        Assert.Equal(20, estimate.MedianCostMs, 6);
        Assert.Equal(0, estimate.HalfWidthMs, 6);
        Assert.True(estimate.Events >= 13, $"{estimate.Events} events");
        var (fraction, low, high) = estimate.Fraction(100, every: 1);
        Assert.Equal(0.2, fraction, 6);
        Assert.Equal(fraction, low, 6);
        Assert.Equal(fraction, high, 6);
    }

    [Fact]
    public void Without_events_the_cost_is_nothing_and_noise_widens_the_interval_around_it()
    {
        var random = new Random(5);
        var starts = Starts(Enumerable.Range(0, 400).Select(_ => 100 + (random.NextDouble() * 20)));
        var estimate = InterleavedCost.Of(starts, period: 8, affected: 5, clean: 3, fromStep: 8);

        Assert.InRange(estimate.MeanCostMs, -estimate.HalfWidthMs, estimate.HalfWidthMs);
        Assert.InRange(estimate.HalfWidthMs, 1, 20);
        Assert.InRange(estimate.CleanStepMs, 105, 115);
    }

    [Fact]
    public void Blocks_with_a_step_missing_are_left_out_and_too_few_events_are_refused()
    {
        var starts = Starts(Enumerable.Repeat(100.0, 40)).Where(s => s.Step != 9 && s.Step != 23).ToArray();
        var estimate = InterleavedCost.Of(starts, period: 4, affected: 2, clean: 2, fromStep: 0);
        Assert.Equal(5, estimate.Events); // boundaries 4…36 but 8 (its affected interval from step 8 to 9) and 12 (its clean interval from 9 to 10), 20 and 24 likewise for step 23: a gap does not end the count

        Assert.Throws<InvalidOperationException>(() => InterleavedCost.Of(Starts(Enumerable.Repeat(100.0, 6)), period: 4, affected: 2, clean: 2, fromStep: 0));
        Assert.Throws<ArgumentException>(() => InterleavedCost.Of(starts, period: 4, affected: 3, clean: 2, fromStep: 0));
    }
}
