using Cluster.Grains.Checkpoints;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Kernels.Data;
using Cluster.Kernels.Training;

namespace Cluster.Grains.Tests;

public sealed class CheckpointCommitTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    [Fact]
    public async Task Manifests_are_committed_every_ten_steps_and_load_back_bit_exactly()
    {
        var spec = TinyJob.Spec("commit-10-20-30");
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        await job.Submit(spec);
        var status = await Eventually.Value(job.GetStatus, s => s.State is JobState.Completed or JobState.Failed, TimeSpan.FromMinutes(3), "the job to finish");
        Assert.True(status.State == JobState.Completed, $"job ended {status.State}: {status.Error}");
        Assert.Equal(30, status.LastCheckpointStep);

        var manifests = await job.ListCheckpoints();
        Assert.Equal(new long[] { 10, 20, 30 }, manifests.Select(m => m.Step));
        Assert.All(manifests, m => Assert.Equal(6, m.Shards.Count)); // embed, 4 blocks, head
        var losses = await job.GetLossHistory();
        // The manifest names the step's loss and the checkpoint's loss file; the history itself is in that file.
        var store = new FileSystemCheckpointStore(Path.Combine(fixture.DataRoot, "checkpoints"));
        Assert.Empty(manifests[0].LossHistory);
        Assert.Equal(losses[9], manifests[0].Loss);
        Assert.Equal(losses.Take(10), await CheckpointLosses.ReadAsync(store, manifests[0]));
        Assert.Equal(losses.Take(30), await CheckpointLosses.ReadAsync(store, manifests[2]));

        // Restore step 10 into the single-process reference trainer and train on: the job's steps 10…29 come out again.
        var options = TinyJob.ReferenceOptions(spec);
        using var resumed = new ReferenceTrainer(options, TokenSources.Open(spec.DataSource));
        var at10 = manifests[0];
        resumed.ImportState(unit => (store.ReadShardChunksAsync(at10, at10.Shards.Single(s => s.UnitName == unit).Name).GetAwaiter().GetResult(), unit));
        Assert.Equal(10, resumed.CompletedSteps);
        for (int step = 10; step < 30; step++)
        {
            double loss = resumed.TrainStep().Loss;
            Assert.True(BitConverter.DoubleToInt64Bits(losses[step]) == BitConverter.DoubleToInt64Bits(loss), $"step {step}: job {losses[step]:R}, resumed reference {loss:R}");
        }

        // And the weights it ends with are the ones the step-30 checkpoint holds, bit for bit.
        using var final = new ReferenceTrainer(options, TokenSources.Open(spec.DataSource));
        var at30 = manifests[2];
        final.ImportState(unit => (store.ReadShardChunksAsync(at30, at30.Shards.Single(s => s.UnitName == unit).Name).GetAwaiter().GetResult(), unit));
        var expected = resumed.ParameterValues();
        foreach (var (name, values) in final.ParameterValues())
            Assert.True(values.AsSpan().SequenceEqual(expected[name]), $"parameter {name} differs between the step-30 checkpoint and the resumed run");
    }

    [Fact]
    public async Task Retention_keeps_only_the_last_checkpoints()
    {
        var spec = TinyJob.Spec("retention", stages: 2, steps: 12, checkpointInterval: 2) with { KeepCheckpoints = 2 };
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        await job.Submit(spec);
        var status = await Eventually.Value(job.GetStatus, s => s.State is JobState.Completed or JobState.Failed, TimeSpan.FromMinutes(2), "the job to finish");
        Assert.True(status.State == JobState.Completed, status.Error);
        Assert.Equal(new long[] { 10, 12 }, (await job.ListCheckpoints()).Select(m => m.Step));
        var stepFolders = Directory.GetDirectories(Path.Combine(fixture.DataRoot, "checkpoints", spec.JobId)).Select(Path.GetFileName).Order().ToArray();
        Assert.Equal(new[] { "step-00000010", "step-00000012" }, stepFolders);
    }
}
