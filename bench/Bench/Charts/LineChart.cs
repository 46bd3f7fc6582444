using System.Globalization;

namespace Cluster.Bench.Charts;

/// <summary>A line chart of a few series over a shared x axis, with grid, tick labels, title and legend, saved as PNG.</summary>
internal static class LineChart
{
    private static readonly (byte, byte, byte)[] s_colors = [(214, 39, 40), (255, 127, 14), (31, 119, 180), (44, 160, 44), (148, 103, 189), (140, 86, 75)];
    private static readonly (byte, byte, byte) s_ink = (30, 30, 30), s_grid = (225, 225, 225);

    public static void Save(string path, string title, string xLabel, string yLabel,
        IReadOnlyList<(string Name, IReadOnlyList<(double X, double Y)> Points)> series, double yMin, double yMax, double yStep)
    {
        const int width = 960, height = 610, left = 80, right = 30, top = 60, bottom = 150;
        var canvas = new RgbCanvas(width, height);
        int plotW = width - left - right, plotH = height - top - bottom;
        double xMin = series.SelectMany(s => s.Points).Min(p => p.X), xMax = series.SelectMany(s => s.Points).Max(p => p.X);
        int Px(double x) => left + (int)Math.Round((x - xMin) / (xMax - xMin) * plotW);
        int Py(double y) => top + plotH - (int)Math.Round((Math.Clamp(y, yMin, yMax) - yMin) / (yMax - yMin) * plotH);

        for (double y = yMin; y <= yMax + 1e-9; y += yStep)
        {
            canvas.Line(left, Py(y), left + plotW, Py(y), s_grid);
            string label = (y * 100).ToString("F0", CultureInfo.InvariantCulture) + "%";
            canvas.Text(left - 8 - RgbCanvas.TextWidth(label, 2), Py(y) - 7, label, s_ink, 2);
        }
        foreach (double x in series[0].Points.Select(p => p.X))
        {
            canvas.Line(Px(x), top, Px(x), top + plotH, s_grid);
            string label = x.ToString("0.#", CultureInfo.InvariantCulture);
            canvas.Text(Px(x) - RgbCanvas.TextWidth(label, 2) / 2, top + plotH + 8, label, s_ink, 2);
        }
        canvas.Line(left, top, left, top + plotH, s_ink, 2);
        canvas.Line(left, top + plotH, left + plotW, top + plotH, s_ink, 2);
        canvas.Text((width - RgbCanvas.TextWidth(title, 2)) / 2, 8, title, s_ink, 2);
        canvas.Text(left + (plotW - RgbCanvas.TextWidth(xLabel, 2)) / 2, top + plotH + 32, xLabel, s_ink, 2);
        canvas.Text(8, top - 32, yLabel, s_ink, 2);

        for (int s = 0; s < series.Count; s++)
        {
            var color = s_colors[s % s_colors.Length];
            var points = series[s].Points;
            for (int i = 1; i < points.Count; i++)
                canvas.Line(Px(points[i - 1].X), Py(points[i - 1].Y), Px(points[i].X), Py(points[i].Y), color, 3);
            foreach (var p in points)
                canvas.Fill(Px(p.X) - 4, Py(p.Y) - 4, 9, 9, color);
            int ly = top + plotH + 62 + (s % 4) * 20, lx = left + (s / 4) * 440;
            canvas.Fill(lx, ly, 24, 12, color);
            canvas.Text(lx + 32, ly - 1, series[s].Name, s_ink, 2);
        }
        PngWriter.Write(path, width, height, canvas.Pixels);
    }
}
