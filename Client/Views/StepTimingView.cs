using Cluster.Grains.Interfaces.Jobs;

namespace Cluster.Client.Views;

/// <summary>
/// Where one step's time went (<c>job timings</c>), in milliseconds. <see cref="Step"/> counts from 1 like
/// <c>job losses</c> and progress (step n is the n-th completed step; the grain's <see cref="StepTiming.Step"/> is the
/// 0-based index of the step being run). <see cref="WallMs"/> runs from the step's start to its count, which waits for
/// its snapshot while the next step already computes; <see cref="StartToStartMs"/> (from the step before's start to
/// this one's) is what each step costs. <see cref="StartedAt"/> and <see cref="StartToStartMs"/> are null where the
/// job did not say when its steps started (a silo of an earlier version), or for the first step of the window.
/// </summary>
internal sealed record StepTimingView(long Step, double WallMs, double ComputeMs, double QueueMs, double MessagingMs, double ReduceAndUpdateMs,
    DateTimeOffset? StartedAt = null, double? StartToStartMs = null)
{
    public static StepTimingView From(StepTiming t) => new(t.Step + 1, Math.Round(t.WallMs, 2), Math.Round(t.ComputeMs, 2), Math.Round(t.QueueMs, 2),
        Math.Round(t.MessagingMs, 2), Math.Round(t.ReduceAndUpdateMs, 2), t.StartedAt == default ? null : t.StartedAt);

    /// <summary>The views of <paramref name="timings"/> in step order, each with the time since the step before's start when both are known.</summary>
    public static IReadOnlyList<StepTimingView> Of(IEnumerable<StepTiming> timings)
    {
        var views = timings.OrderBy(t => t.Step).Select(From).ToArray();
        for (int i = 1; i < views.Length; i++)
            if (views[i].Step == views[i - 1].Step + 1 && views[i].StartedAt is { } started && views[i - 1].StartedAt is { } before)
                views[i] = views[i] with { StartToStartMs = Math.Round((started - before).TotalMilliseconds, 2) };
        return views;
    }
}
