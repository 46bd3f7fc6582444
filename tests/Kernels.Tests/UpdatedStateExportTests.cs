using Cluster.Kernels.Model;
using Cluster.Kernels.Training;
using Cluster.Kernels.Wire;
using TorchSharp;

namespace Cluster.Kernels.Tests;

/// <summary>
/// A stage's state as of its last update, read in the middle of a step (what a surviving data-parallel replica serves
/// to a recovery while its own step is abandoned): the same bytes as between steps, since forward and backward passes
/// change no parameter and no moment; only the update does.
/// </summary>
public sealed class UpdatedStateExportTests
{
    [Fact]
    public void Mid_step_the_updated_state_is_the_state_between_steps_and_only_the_update_changes_it()
    {
        using var executor = new StageExecutor(StagePlan.Balanced(TinyModel.Config, 1), 0, TinyModel.Options().Optimizer, torch.CPU);
        var sampler = new Data.BatchSampler(TinyModel.Corpus, TinyModel.Config.ContextLength, 2, dataSeed: 5, TinyModel.Config.VocabSize);
        byte[][] Bytes(IEnumerable<Checkpoint.UnitStateImage> images) => [.. images.Select(i => i.Image.ToArray())];

        var before = Bytes(executor.ExportState());
        var batch = sampler.Sample(0, 0);
        executor.ForwardLoss(0, TensorWire.FromTokens(batch.Inputs, batch.Rows, batch.Columns), TensorWire.FromTokens(batch.Targets, batch.Rows, batch.Columns));
        executor.Backward(0, null, 1f);
        Assert.Throws<InvalidOperationException>(() => executor.ExportState()); // a snapshot's copy is for step boundaries only
        Assert.Equal(before, Bytes(executor.ExportUpdatedState()));

        executor.GradientSquares();
        Assert.Equal(before, Bytes(executor.ExportUpdatedState())); // gradients finalised, not applied
        executor.ApplyUpdate(1.0);
        var after = Bytes(executor.ExportState());
        Assert.NotEqual(before, after);
        Assert.Equal(after, Bytes(executor.ExportUpdatedState()));
        Assert.Equal(1, executor.CompletedSteps);
    }
}
