using Cluster.Kernels.Config;

namespace Cluster.Kernels.Training;

/// <summary>Linear warm-up then cosine decay to a floor; a pure function of the (0-based) step.</summary>
public static class LearningRateSchedule
{
    public static double At(OptimizerConfig config, long step)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        if (step < config.WarmupSteps)
            return config.LearningRate * (step + 1) / config.WarmupSteps;
        if (step >= config.DecaySteps)
            return config.MinLearningRate;
        double progress = (double)(step - config.WarmupSteps) / Math.Max(1, config.DecaySteps - config.WarmupSteps);
        double cosine = 0.5 * (1.0 + Math.Cos(Math.PI * progress));
        return config.MinLearningRate + cosine * (config.LearningRate - config.MinLearningRate);
    }
}
