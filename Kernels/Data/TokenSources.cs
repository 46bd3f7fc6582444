namespace Cluster.Kernels.Data;

/// <summary>Opens a corpus from a spec: "synthetic" (the built-in corpus), a *.bin uint16 token file, or any other file as bytes.</summary>
public static class TokenSources
{
    public const string Synthetic = "synthetic";

    public static ITokenSource Open(string spec)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(spec);
        if (spec == Synthetic) return SyntheticCorpus.Source();
        if (!File.Exists(spec))
            throw new FileNotFoundException($"Data file '{spec}' does not exist: give a path to a text file (read as bytes), a nanoGPT-style uint16 .bin token file, or '{Synthetic}' for the built-in corpus.", spec);
        return spec.EndsWith(".bin", StringComparison.OrdinalIgnoreCase) ? Uint16TokenSource.Open(spec) : ByteTokenSource.FromFile(spec);
    }
}
