using System.Globalization;
using System.Text;

namespace Cluster.Client.Rendering;

/// <summary>
/// The loss curve as a small text chart: <c>height</c> rows of block characters (8 levels per row), labelled with the
/// highest and lowest loss shown; long histories are averaged down to the width.
/// </summary>
internal static class LossChart
{
    private const string Partial = " ▁▂▃▄▅▆▇█";

    /// <summary>Fewer values than columns: each value takes an equal run of columns, so short runs fill the chart.</summary>
    private static double[] Stretch(double[] values, int width) =>
        values.Length == 0 || values.Length >= width ? values
            : [.. Enumerable.Range(0, width / values.Length * values.Length).Select(c => values[c / (width / values.Length)])];

    public static string Render(IReadOnlyList<double> losses, int width, int height)
    {
        var columns = Stretch(Sparkline.Resample(losses, width), width);
        if (columns.Length == 0) return "(no steps yet)";
        double min = columns.Min(), max = columns.Max();
        int levels = height * 8;
        var heights = columns.Select(v => Sparkline.Level(v, min, max, levels) + 1).ToArray();
        string top = max.ToString("0.000", CultureInfo.InvariantCulture), bottom = min.ToString("0.000", CultureInfo.InvariantCulture);
        int label = Math.Max(top.Length, bottom.Length);
        var text = new StringBuilder();
        for (int row = height - 1; row >= 0; row--)
        {
            string axis = row == height - 1 ? top : row == 0 ? bottom : "";
            text.Append(axis.PadLeft(label)).Append(" ┤");
            foreach (int h in heights)
                text.Append(Partial[Math.Clamp(h - row * 8, 0, 8)]);
            if (row > 0) text.Append('\n');
        }
        return text.ToString();
    }
}
