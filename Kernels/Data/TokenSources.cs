namespace Cluster.Kernels.Data;

/// <summary>
/// Opens a corpus from a spec: "synthetic" (the built-in corpus), a *.bin uint16 token file, or any other file as
/// bytes — only a file <see cref="DataSourcePolicy"/> allows, optionally pinned to its content (<see cref="DataSourceReference"/>).
/// </summary>
public static class TokenSources
{
    public const string Synthetic = "synthetic";

    /// <summary>Opens what a local tool's own user named (<see cref="DataSourcePolicy.Local"/>).</summary>
    public static ITokenSource Open(string spec) => Load(spec, DataSourcePolicy.Local).Source;

    /// <summary>
    /// Checks <paramref name="spec"/> against <paramref name="policy"/> (without reading), then loads it and verifies a
    /// pinned hash. Errors: <see cref="FileNotFoundException"/> when the file is missing, <see cref="DataSourceRefusedException"/>
    /// when the policy refuses it, <see cref="DataIdentityMismatchException"/> when its content differs from the pin.
    /// </summary>
    public static IdentifiedTokenSource Load(string spec, DataSourcePolicy policy)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(spec);
        ArgumentNullException.ThrowIfNull(policy);
        var reference = DataSourceReference.Parse(spec);
        var source = reference.Path == Synthetic ? LoadSynthetic() : LoadFile(Check(reference.Path, policy));
        if (reference.Sha256 is { } expected && expected != source.Identity.Sha256)
            throw new DataIdentityMismatchException(spec, expected, source.Identity);
        return source;
    }

    /// <summary>The file <paramref name="path"/> names if the policy allows it; never reads it.</summary>
    public static DataFile Check(string path, DataSourcePolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        try
        {
            return policy.Check(path);
        }
        catch (DataSourceRefusedException e) when (e.InnerException is FileNotFoundException)
        {
            throw new FileNotFoundException($"Data file '{path}' does not exist: give a path to a text file (read as bytes), a nanoGPT-style uint16 .bin token file, or '{Synthetic}' for the built-in corpus.", path, e);
        }
    }

    /// <summary>Loads a file the policy allowed (<see cref="Check"/>), by its extension.</summary>
    public static IdentifiedTokenSource LoadFile(DataFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (file.Source.EndsWith(".bin", StringComparison.OrdinalIgnoreCase))
        {
            var (tokens, identity) = Uint16TokenSource.Open(file);
            return new IdentifiedTokenSource(tokens, identity);
        }
        var (bytes, byteIdentity) = ByteTokenSource.Open(file);
        return new IdentifiedTokenSource(bytes, byteIdentity);
    }

    private static IdentifiedTokenSource LoadSynthetic()
    {
        byte[] bytes = SyntheticCorpus.Generate();
        return new IdentifiedTokenSource(new ByteTokenSource(bytes, $"synthetic(seed=7, bytes={bytes.Length})"),
            new DataIdentity(bytes.Length, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes))));
    }
}
