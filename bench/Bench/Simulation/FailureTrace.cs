namespace Cluster.Bench.Simulation;

/// <summary>
/// The interruptions of one simulated run: when, which cause, and a uniform number that picks the host it hits.
/// Every policy is run against the same trace, so differences between policies are the policies' alone.
/// </summary>
internal sealed record FailureTrace(IReadOnlyList<FailureEvent> Events)
{
    /// <summary>
    /// Exactly the causes' total count of interruptions (scaled to the fleet: <paramref name="scale"/> = job hosts ÷
    /// 2,048), each cause as often as its share, at independent uniform times over the horizon — a Poisson process
    /// conditioned on its count. Seeded: the same arguments give the same trace.
    /// </summary>
    public static FailureTrace Generate(IReadOnlyList<FailureCause> causes, double horizonSeconds, double scale, int seed)
    {
        var random = new Random(seed);
        var events = new List<FailureEvent>();
        for (int c = 0; c < causes.Count; c++)
        {
            double expected = causes[c].Count * scale;
            int count = (int)Math.Floor(expected) + (random.NextDouble() < expected - Math.Floor(expected) ? 1 : 0);
            for (int i = 0; i < count; i++)
                events.Add(new FailureEvent(random.NextDouble() * horizonSeconds, c, random.NextDouble()));
        }
        events.Sort((a, b) => a.Time.CompareTo(b.Time));
        return new FailureTrace(events);
    }
}

/// <summary>An interruption at <paramref name="Time"/> seconds of cause <paramref name="Cause"/>; <paramref name="HostPick"/> ∈ [0, 1) picks the host.</summary>
internal readonly record struct FailureEvent(double Time, int Cause, double HostPick);
