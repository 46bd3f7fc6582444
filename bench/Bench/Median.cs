namespace Cluster.Bench;

/// <summary>The median the benchmarks report beside their worst cases.</summary>
internal static class Median
{
    /// <summary>The middle value (the mean of the middle two for an even count); throws on none.</summary>
    public static double Of(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0) throw new ArgumentException("The median of no values is undefined.", nameof(values));
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
