using TorchSharp;

namespace Cluster.Kernels.Compute;

/// <summary>
/// Scalars that live for the whole process, for the constant factors every kernel needs (the alpha of a plain add).
/// TorchSharp hands only a scalar's native handle to libtorch, so a temporary scalar (what <c>x + y</c> or
/// <c>t.mul_(0.9)</c> make implicitly) can be finalized while libtorch still reads it; these never are. The implicit
/// conversions are banned by build/BannedSymbols.txt. Native scalars are immutable, so every thread may share them.
/// </summary>
internal static class KeptScalars
{
    /// <summary>The integer 1, exactly the alpha TorchSharp's <c>add(Tensor)</c> passes.</summary>
    public static readonly Scalar One = 1.ToScalar();

    /// <summary>The integer 2, exactly the exponent TorchSharp's <c>square()</c> passes to <c>pow</c>.</summary>
    public static readonly Scalar Two = 2.ToScalar();
}
