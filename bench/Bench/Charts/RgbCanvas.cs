namespace Cluster.Bench.Charts;

/// <summary>A white RGB raster with the few primitives a line chart needs: pixels, rectangles, thick lines, text.</summary>
internal sealed class RgbCanvas(int width, int height)
{
    public int Width { get; } = width;
    public int Height { get; } = height;
    public byte[] Pixels { get; } = Enumerable.Repeat((byte)255, width * height * 3).ToArray();

    public void Set(int x, int y, (byte R, byte G, byte B) color)
    {
        if (x < 0 || y < 0 || x >= Width || y >= Height) return;
        int i = (y * Width + x) * 3;
        (Pixels[i], Pixels[i + 1], Pixels[i + 2]) = color;
    }

    public void Fill(int x, int y, int w, int h, (byte, byte, byte) color)
    {
        for (int j = y; j < y + h; j++)
            for (int i = x; i < x + w; i++)
                Set(i, j, color);
    }

    /// <summary>Bresenham's line, drawn <paramref name="thickness"/> pixels wide.</summary>
    public void Line(int x0, int y0, int x1, int y1, (byte, byte, byte) color, int thickness = 1)
    {
        int dx = Math.Abs(x1 - x0), dy = -Math.Abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1, err = dx + dy;
        while (true)
        {
            Fill(x0 - thickness / 2, y0 - thickness / 2, thickness, thickness, color);
            if (x0 == x1 && y0 == y1) break;
            int e2 = 2 * err;
            if (e2 >= dy) { err += dy; x0 += sx; }
            if (e2 <= dx) { err += dx; y0 += sy; }
        }
    }

    /// <summary>Text in the 5 × 7 font at <paramref name="scale"/>; returns the width drawn.</summary>
    public int Text(int x, int y, string text, (byte, byte, byte) color, int scale = 1)
    {
        for (int c = 0; c < text.Length; c++)
        {
            var glyph = BitmapFont.Glyph(text[c]);
            for (int row = 0; row < BitmapFont.Height; row++)
                for (int col = 0; col < BitmapFont.Width; col++)
                    if ((glyph[row] >> (BitmapFont.Width - 1 - col) & 1) != 0)
                        Fill(x + (c * (BitmapFont.Width + 1) + col) * scale, y + row * scale, scale, scale, color);
        }
        return TextWidth(text, scale);
    }

    public static int TextWidth(string text, int scale = 1) => text.Length * (BitmapFont.Width + 1) * scale;
}
