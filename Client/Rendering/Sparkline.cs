namespace Cluster.Client.Rendering;

/// <summary>A series as one line of block characters (▁…█), resampled to at most <c>width</c> columns.</summary>
internal static class Sparkline
{
    private const string Blocks = "▁▂▃▄▅▆▇█";

    public static string Of(IReadOnlyList<double> values, int width)
    {
        var columns = Resample(values, width);
        if (columns.Length == 0) return "";
        double min = columns.Min(), max = columns.Max();
        return string.Concat(columns.Select(v => Blocks[Level(v, min, max, Blocks.Length)]));
    }

    /// <summary>Means of equal runs of <paramref name="values"/>, one per column (the values themselves when they fit).</summary>
    public static double[] Resample(IReadOnlyList<double> values, int width)
    {
        var finite = values.Where(double.IsFinite).ToArray();
        if (finite.Length <= width) return finite;
        var columns = new double[width];
        for (int c = 0; c < width; c++)
        {
            int from = (int)((long)c * finite.Length / width), to = (int)((long)(c + 1) * finite.Length / width);
            columns[c] = finite[from..Math.Max(from + 1, to)].Average();
        }
        return columns;
    }

    /// <summary>0 … levels-1 for <paramref name="v"/> between <paramref name="min"/> and <paramref name="max"/>.</summary>
    public static int Level(double v, double min, double max, int levels) =>
        max - min < 1e-12 ? levels / 2 : Math.Clamp((int)Math.Round((v - min) / (max - min) * (levels - 1)), 0, levels - 1);
}
