using Cluster.Grains.Interfaces.Jobs;

namespace Cluster.Client.Views;

/// <summary>
/// Where one step's time went (<c>job timings</c>), in milliseconds. <see cref="Step"/> counts from 1 like
/// <c>job losses</c> and progress (step n is the n-th completed step; the grain's <see cref="StepTiming.Step"/> is the
/// 0-based index of the step being run).
/// </summary>
internal sealed record StepTimingView(long Step, double WallMs, double ComputeMs, double QueueMs, double MessagingMs, double ReduceAndUpdateMs)
{
    public static StepTimingView From(StepTiming t) => new(t.Step + 1, Math.Round(t.WallMs, 2), Math.Round(t.ComputeMs, 2), Math.Round(t.QueueMs, 2),
        Math.Round(t.MessagingMs, 2), Math.Round(t.ReduceAndUpdateMs, 2));
}
