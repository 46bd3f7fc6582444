namespace Cluster.Bench;

/// <summary>
/// The cost of something a job does every <c>period</c> steps (an in-memory snapshot, a durable checkpoint), from the
/// start times of the steps of one job — so every event is set against the steps right around it, and a shared host's
/// drift, which moved a whole job's mean by 20–60 % between jobs a few seconds apart (2026-12-05), cancels out.
/// The event at boundary b (b % period == 0, after warm-up) is begun before step b starts (the job copies the state
/// the first b steps left, then starts step b), and what it costs shows in the intervals from step b−1's start to step
/// b's (the copy) and in the next ones (the encoding, sending and writing that run beside the steps after it, and any
/// wait for them): the first <c>affected</c> intervals of its block. The last <c>clean</c> intervals of the block before
/// it and of its own block carry no event of theirs: their mean is the step's clean cost, and the event's cost is the
/// affected intervals' sum less as many clean steps. Sound while the event's work ends within <c>affected</c> steps
/// (<c>affected + clean ≤ period</c>).
/// </summary>
internal static class InterleavedCost
{
    /// <summary>The events' mean cost (ms) with the half-width of its 95 % interval (normal approximation), their median, and the clean step's mean (ms).</summary>
    public sealed record Estimate(double MeanCostMs, double HalfWidthMs, double MedianCostMs, double CleanStepMs, int Events)
    {
        /// <summary>The mean cost as a share of <paramref name="stepMs"/> per <paramref name="every"/> steps, with its interval's ends.</summary>
        public (double Fraction, double Low, double High) Fraction(double stepMs, int every) =>
            (MeanCostMs / (every * stepMs), (MeanCostMs - HalfWidthMs) / (every * stepMs), (MeanCostMs + HalfWidthMs) / (every * stepMs));
    }

    /// <summary>
    /// The estimate from <paramref name="starts"/> (each step's 0-based index and start time, any order) for the events at
    /// boundaries from <paramref name="fromStep"/> on whose whole block (and the clean steps before it) is in the list.
    /// </summary>
    public static Estimate Of(IReadOnlyCollection<(long Step, DateTimeOffset StartedAt)> starts, int period, int affected, int clean, long fromStep)
    {
        ArgumentNullException.ThrowIfNull(starts);
        if (affected < 1 || clean < 1 || affected + clean > period)
            throw new ArgumentException($"affected ({affected}) and clean ({clean}) intervals must be 1 or more and together at most the period ({period}).");
        var at = starts.ToDictionary(s => s.Step, s => s.StartedAt);
        double? Interval(long b) => at.TryGetValue(b, out var end) && at.TryGetValue(b - 1, out var start) ? (end - start).TotalMilliseconds : null;
        var costs = new List<double>();
        var cleanSteps = new List<double>();
        long first = Math.Max(fromStep, clean + 1);
        long last = at.Count == 0 ? -1 : at.Keys.Max();
        for (long b = first + ((period - (first % period)) % period); b + period - 1 <= last; b += period)
        {
            double?[] hit = [.. Enumerable.Range(0, affected).Select(i => Interval(b + i))];
            double?[] quiet = [.. Enumerable.Range(1, clean).Select(i => Interval(b - i)), .. Enumerable.Range(period - clean, clean).Select(i => Interval(b + i))];
            if (hit.Any(i => i is null) || quiet.Any(i => i is null)) continue;
            double cleanStep = quiet.Average(i => i!.Value);
            costs.Add(hit.Sum(i => i!.Value) - (affected * cleanStep));
            cleanSteps.Add(cleanStep);
        }
        if (costs.Count < 2)
            throw new InvalidOperationException($"{costs.Count} event(s) with their whole block timed: run more steps (period {period}, from step {fromStep}, {starts.Count} step(s) timed).");
        double mean = costs.Average();
        double sd = Math.Sqrt(costs.Sum(c => (c - mean) * (c - mean)) / (costs.Count - 1));
        return new Estimate(mean, 1.96 * sd / Math.Sqrt(costs.Count), Median.Of(costs), cleanSteps.Average(), costs.Count);
    }
}
