using Cluster.Kernels.Checkpoint;
using Cluster.Kernels.Model;
using Cluster.Kernels.Training;
using Cluster.Kernels.Wire;
using TorchSharp;

namespace Cluster.Kernels.Tests;

/// <summary>
/// A snapshot's copy into the host buffers an executor keeps: each copy encodes to the bytes a fresh export gives, the
/// next copy reuses (overwrites) the same arrays, and another executor — another configuration of the stage — has
/// arrays of its own (<see cref="StageExecutor"/>'s invariant on reused buffers).
/// </summary>
public sealed class KeptSnapshotBuffersTests
{
    [Fact]
    public void Kept_buffers_hold_each_copy_exactly_are_reused_by_the_next_and_are_never_another_executors()
    {
        var plan = StagePlan.Balanced(TinyModel.Config, 1);
        using var executor = new StageExecutor(plan, 0, TinyModel.Options().Optimizer, torch.CPU);
        var sampler = new Data.BatchSampler(TinyModel.Corpus, TinyModel.Config.ContextLength, 2, dataSeed: 5, TinyModel.Config.VocabSize);
        byte[][] Bytes(IEnumerable<UnitStateImage> images) => [.. images.Select(i => i.Image.ToArray())];
        byte[][] Encoded(IReadOnlyList<UnitStateCopy> copies) => Bytes(copies.Select(c => c.Encode(TinyModel.Config)));
        IEnumerable<byte[]> Arrays(IReadOnlyList<UnitStateCopy> copies) =>
            copies.SelectMany(c => c.Parameters).SelectMany(p => new[] { p.Parameter, p.ExpAvg, p.ExpAvgSq }).SelectMany(t => t.Chunks);

        var first = executor.CopyStateIntoKeptBuffers();
        Assert.Equal(Bytes(executor.ExportState()), Encoded(first));
        var firstArrays = Arrays(first).ToArray();

        var batch = sampler.Sample(0, 0);
        executor.ForwardLoss(0, TensorWire.FromTokens(batch.Inputs, batch.Rows, batch.Columns), TensorWire.FromTokens(batch.Targets, batch.Rows, batch.Columns));
        executor.Backward(0, null, 1f);
        executor.GradientSquares();
        executor.ApplyUpdate(1.0);

        var second = executor.CopyStateIntoKeptBuffers();
        Assert.Equal(Bytes(executor.ExportState()), Encoded(second)); // the update's state, not the first copy's
        Assert.Equal(firstArrays, Arrays(second), (IEqualityComparer<byte[]>)ReferenceEqualityComparer.Instance); // the same arrays, overwritten

        using var next = new StageExecutor(plan, 0, TinyModel.Options().Optimizer, torch.CPU);
        var others = Arrays(next.CopyStateIntoKeptBuffers()).ToHashSet(ReferenceEqualityComparer.Instance);
        Assert.DoesNotContain(firstArrays, a => others.Contains(a));
    }
}
