using Cluster.Kernels.Config;
using Cluster.Kernels.Data;
using Cluster.Kernels.Model;
using Cluster.Kernels.Tests;
using Cluster.Kernels.Training;

namespace Cluster.Bench;

/// <summary>
/// <c>kernels --gc-stress</c>: the reference trainer and the 1F1B pipeline (P = 2 and 4) train the demo model for a few
/// steps while <see cref="GcStress"/> forces collections and finalizers without pause. Errors are runs that threw (a
/// native scalar or tensor freed mid-call shows up as libtorch's "Expected false to be true … Scalar.h"); identical
/// means every pipeline's losses and parameters equal the reference's bit for bit.
/// </summary>
internal static class KernelsGcStressCheck
{
    public static (int Errors, bool Identical, long Collections) Run(TrainerOptions options, ITokenSource corpus, int steps)
    {
        int errors = 0;
        using var stress = GcStress.Start();
        var reference = Train(() => new ReferenceTrainer(options, corpus), t => t.TrainStep().Loss, t => t.ParameterValues(), steps, ref errors);
        bool identical = reference is not null;
        foreach (int p in new[] { 2, 4 })
        {
            var plan = StagePlan.Balanced(options.Model, p);
            var pipeline = Train(() => new PipelineTrainer(options, plan, corpus, PipelineSchedule.OneForwardOneBackward),
                t => t.TrainStep().Loss, t => t.ParameterValues(), steps, ref errors);
            identical &= pipeline is not null && reference is not null && SameBits(reference.Value, pipeline.Value);
        }
        return (errors, identical, stress.Collections);
    }

    private static (double[] Losses, IReadOnlyDictionary<string, float[]> Parameters)? Train<T>(
        Func<T> create, Func<T, double> step, Func<T, IReadOnlyDictionary<string, float[]>> parameters, int steps, ref int errors)
        where T : IDisposable
    {
        try
        {
            using var trainer = create();
            var losses = new double[steps];
            for (int i = 0; i < steps; i++) losses[i] = step(trainer);
            return (losses, parameters(trainer));
        }
        catch (Exception e) when (e is System.Runtime.InteropServices.ExternalException or InvalidOperationException)
        {
            Console.WriteLine($"gc-stress: {typeof(T).Name} failed: {e.Message.Split('\n')[0]}");
            errors++;
            return null;
        }
    }

    private static bool SameBits((double[] Losses, IReadOnlyDictionary<string, float[]> Parameters) a, (double[] Losses, IReadOnlyDictionary<string, float[]> Parameters) b) =>
        a.Losses.Select(BitConverter.DoubleToInt64Bits).SequenceEqual(b.Losses.Select(BitConverter.DoubleToInt64Bits))
        && a.Parameters.Count == b.Parameters.Count
        && a.Parameters.All(kv => b.Parameters.TryGetValue(kv.Key, out var other)
            && kv.Value.Select(BitConverter.SingleToInt32Bits).SequenceEqual(other.Select(BitConverter.SingleToInt32Bits)));
}
