using Cluster.Kernels.Model;
using Cluster.Kernels.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Cluster.Kernels.Tests;

/// <summary>
/// Training allocates no tensor it does not free. TorchSharp counts, per thread, every tensor wrapper created and
/// disposed (in or outside a dispose scope); <c>ThreadTotalLiveCount</c> is created minus disposed. A tensor that is
/// dropped without Dispose stays counted even after the GC finalises it, so a leak shows as steady growth.
/// A synchronous xunit test runs on one thread, which makes the thread-local counter exact here.
/// </summary>
public sealed class TensorLeakTests
{
    private const int Steps = 100;
    private const int WarmupSteps = 5;

    private static ThreadDisposeScopeStatistics Statistics => DisposeScopeManager.Statistics;

    [Fact]
    public void Live_tensor_counter_sees_an_undisposed_tensor()
    {
        // Proves the counter used below can detect a leak at all.
        long before = Statistics.TensorStatistics.ThreadTotalLiveCount;
        var leaked = ones(3);
        Assert.Equal(before + 1, Statistics.TensorStatistics.ThreadTotalLiveCount);
        leaked.Dispose();
        Assert.Equal(before, Statistics.TensorStatistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void Pipeline_training_does_not_grow_the_live_tensor_count()
    {
        var options = TinyModel.Options(microBatches: 2, steps: Steps) with { MicroBatchSize = 2 };
        using var pipeline = new PipelineTrainer(options, StagePlan.Balanced(options.Model, 2), TinyModel.Corpus);
        for (int step = 0; step < WarmupSteps; step++) pipeline.TrainStep();
        long afterWarmup = Statistics.TensorStatistics.ThreadTotalLiveCount;
        long afterWarmupAll = Statistics.ThreadTotalLiveCount;

        for (int step = WarmupSteps; step < Steps; step++)
        {
            pipeline.TrainStep();
            long live = Statistics.TensorStatistics.ThreadTotalLiveCount;
            Assert.True(live <= afterWarmup, $"after step {step} {live} tensors are alive, {afterWarmup} after warm-up: {Statistics}");
        }

        Assert.Equal(afterWarmup, Statistics.TensorStatistics.ThreadTotalLiveCount);
        Assert.Equal(afterWarmupAll, Statistics.ThreadTotalLiveCount); // tensors + packed sequences (none here)
        Assert.Equal(Steps, pipeline.CompletedSteps);
    }

    [Fact]
    public void Disposing_a_trainer_frees_every_tensor_it_created()
    {
        var options = TinyModel.Options(microBatches: 2, steps: 10) with { MicroBatchSize = 2 };
        long before = Statistics.TensorStatistics.ThreadTotalLiveCount;
        using (var pipeline = new PipelineTrainer(options, StagePlan.Balanced(options.Model, 2), TinyModel.Corpus))
            pipeline.TrainStep();
        Assert.Equal(before, Statistics.TensorStatistics.ThreadTotalLiveCount);

        using (var reference = new ReferenceTrainer(options, TinyModel.Corpus))
            reference.TrainStep();
        Assert.Equal(before, Statistics.TensorStatistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void Saving_and_loading_state_does_not_grow_the_live_tensor_count()
    {
        var options = TinyModel.Options(microBatches: 2, steps: 10) with { MicroBatchSize = 2 };
        string directory = TinyModel.TempDirectory();
        try
        {
            using var pipeline = new PipelineTrainer(options, StagePlan.Balanced(options.Model, 3), TinyModel.Corpus);
            pipeline.TrainStep();
            pipeline.SaveState(directory);
            pipeline.LoadState(directory);
            long afterFirst = Statistics.TensorStatistics.ThreadTotalLiveCount;
            for (int round = 0; round < 5; round++)
            {
                pipeline.TrainStep();
                pipeline.SaveState(directory);
                pipeline.LoadState(directory);
                _ = pipeline.ParameterValues();
            }
            Assert.Equal(afterFirst, Statistics.TensorStatistics.ThreadTotalLiveCount);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
