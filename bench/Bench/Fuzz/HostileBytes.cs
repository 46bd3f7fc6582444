namespace Cluster.Bench.Fuzz;

/// <summary>Mutations of a valid input and numbers biased to the edges, as a mutation fuzzer makes them.</summary>
internal static class HostileBytes
{
    private const string JsonCharacters = "{}[]\",:-0123456789eE\\";
    private static readonly long[] s_edges = [0, 1, -1, 2, 7, 8, 255, 256, 65_535, 65_536, int.MaxValue, int.MinValue, (long)int.MaxValue + 1, long.MaxValue, long.MinValue, 1L << 40];

    public static byte[] Random(Random random, int maxLength)
    {
        var bytes = new byte[random.Next(maxLength + 1)];
        random.NextBytes(bytes);
        return bytes;
    }

    /// <summary>1–4 edits of <paramref name="valid"/>: byte flips, overwrites, truncation, insertion, an edge value written at some offset.</summary>
    public static byte[] Mutate(Random random, byte[] valid)
    {
        byte[] image = (byte[])valid.Clone();
        for (int edits = 1 + random.Next(4); edits > 0 && image.Length > 0; edits--)
        {
            int at = random.Next(image.Length);
            switch (random.Next(6))
            {
                case 0: image[at] ^= (byte)(1 << random.Next(8)); break;
                case 1: image[at] = (byte)random.Next(256); break;
                case 2: image = image[..at]; break;
                case 3: image = [.. image[..at], .. Random(random, 16), .. image[at..]]; break;
                case 4:
                    if (image.Length >= 8)
                        BitConverter.TryWriteBytes(image.AsSpan(random.Next(image.Length - 7)), Edge(random));
                    break;
                default: image[at] = (byte)JsonCharacters[random.Next(JsonCharacters.Length)]; break;
            }
        }
        return image;
    }

    public static long Edge(Random random) => random.Next(3) == 0 ? random.NextInt64(long.MinValue, long.MaxValue) : s_edges[random.Next(s_edges.Length)];

    public static int EdgeInt(Random random) => random.Next(4) switch
    {
        0 => random.Next(int.MinValue, int.MaxValue),
        1 => (int)Math.Clamp(Edge(random), int.MinValue, int.MaxValue),
        _ => random.Next(0, 9),
    };
}
