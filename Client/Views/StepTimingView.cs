using Cluster.Grains.Interfaces.Jobs;

namespace Cluster.Client.Views;

/// <summary>Where one step's time went (<c>job timings</c>), in milliseconds.</summary>
internal sealed record StepTimingView(long Step, double WallMs, double ComputeMs, double QueueMs, double MessagingMs, double ReduceAndUpdateMs)
{
    public static StepTimingView From(StepTiming t) => new(t.Step, Math.Round(t.WallMs, 2), Math.Round(t.ComputeMs, 2), Math.Round(t.QueueMs, 2),
        Math.Round(t.MessagingMs, 2), Math.Round(t.ReduceAndUpdateMs, 2));
}
