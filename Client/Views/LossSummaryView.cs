namespace Cluster.Client.Views;

/// <summary>A job's loss history in brief: first, last and lowest loss, and the most recent values.</summary>
internal sealed record LossSummaryView(int Steps, double? First, double? Last, double? Min, int? MinStep, IReadOnlyList<double> Recent)
{
    public const int RecentCount = 50;

    public static LossSummaryView From(IReadOnlyList<double> losses)
    {
        if (losses.Count == 0) return new(0, null, null, null, null, []);
        int minStep = 0;
        for (int i = 1; i < losses.Count; i++)
        {
            if (losses[i] < losses[minStep]) minStep = i;
        }
        return new(losses.Count, losses[0], losses[^1], losses[minStep], minStep, [.. losses.Skip(Math.Max(0, losses.Count - RecentCount))]);
    }
}
