using Cluster.Kernels.Compute;
using static TorchSharp.torch;

namespace Cluster.Kernels.Training;

/// <summary>
/// Global-norm clipping made canonical: each stage reports one squared norm per parameter (float64), and the
/// coordinator sums them in global parameter order — stage by stage, which is unit order — so the norm, and hence
/// the clip coefficient, is the same bits whatever the partition.
/// </summary>
public static class GradientNorm
{
    /// <summary>The global L2 norm from per-stage squared norms given in stage order.</summary>
    public static double Global(IEnumerable<IReadOnlyList<double>> squaresByStage)
    {
        ArgumentNullException.ThrowIfNull(squaresByStage);
        double sum = 0;
        foreach (var stage in squaresByStage)
            foreach (double square in stage)
                sum += square;
        return Math.Sqrt(sum);
    }

    /// <summary>torch.nn.utils.clip_grad_norm_'s rule: scale by clip / (norm + 1e-6) when that is below 1.</summary>
    public static double ClipCoefficient(double globalNorm, double clipNorm)
    {
        if (clipNorm <= 0 || double.IsNaN(globalNorm)) return 1.0;
        double coefficient = clipNorm / (globalNorm + 1e-6);
        return coefficient < 1.0 ? coefficient : 1.0;
    }

    /// <summary>Squared L2 norm of one gradient, accumulated in float64.</summary>
    internal static double SquaredNorm(Tensor gradient)
    {
        using var scope = NewDisposeScope();
        return gradient.to_type(ScalarType.Float64).pow(KeptScalars.Two).sum().item<double>();
    }
}
