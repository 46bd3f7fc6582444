namespace Cluster.Kernels.Model;

/// <summary>SplitMix64-based mixing: independent, reproducible seeds for (seed, index, …) tuples.</summary>
public static class SeedMixer
{
    public static ulong Mix(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }

    public static ulong Combine(long seed, params ReadOnlySpan<long> parts)
    {
        ulong h = Mix((ulong)seed);
        foreach (long p in parts) h = Mix(h ^ (ulong)p);
        return h;
    }
}
