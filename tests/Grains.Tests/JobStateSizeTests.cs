using Cluster.Grains.Jobs;
using Orleans.Storage;

namespace Cluster.Grains.Tests;

/// <summary>What a job saves per step stays O(1) in its step count; the whole loss history still reads back.</summary>
public sealed class JobStateSizeTests : IDisposable
{
    private readonly JobStateWriters _writers = new();

    public void Dispose() => _writers.Dispose();

    [Fact]
    public async Task The_state_of_a_million_step_job_saves_in_a_few_KB_and_reads_back_its_whole_loss_history()
    {
        var storage = _writers.NewStorage();
        var (grain, writer) = await JobStateWriters.Submitted(storage, "a-million-steps", steps: 1_000_000);
        writer.State.State = Interfaces.Jobs.JobState.Running;
        writer.State.Epoch = 3;
        for (int step = 0; step < 1_000_000; step++)
        {
            writer.AddLoss(5.5 / (1 + step * 1e-3));
            writer.State.CompletedSteps = step + 1;
        }
        await writer.Flush();

        // One more step, saved as every step is: only the state file (and no chunk but the one just sealed) changes.
        writer.AddLoss(0.25);
        writer.State.CompletedSteps++;
        await writer.Flush();
        long bytes = storage.SizeOf(JobStateWriter.StateName, grain);
        Assert.True(bytes is > 0 and < 4096, $"the saved state of a 1,000,001-step job is {bytes} bytes");
        Assert.Equal(1 + 1_000_001 / JobStateWriter.LossChunkSize, storage.Count); // the state and its sealed chunks

        var reread = JobStateWriters.Writer(storage, grain);
        await reread.ReadAsync();
        Assert.Equal(1_000_001, reread.State.CompletedSteps);
        Assert.Equal(writer.Losses.Select(BitConverter.DoubleToInt64Bits), reread.Losses.Select(BitConverter.DoubleToInt64Bits));

        // A restore to an earlier step truncates; the next save re-seals from there and reads back the shorter history.
        reread.TruncateLosses(1000);
        reread.State.CompletedSteps = 1000;
        reread.AddLoss(1.5);
        reread.State.CompletedSteps++;
        await reread.Flush();
        var third = JobStateWriters.Writer(storage, grain);
        await third.ReadAsync();
        Assert.Equal(reread.Losses.Select(BitConverter.DoubleToInt64Bits), third.Losses.Select(BitConverter.DoubleToInt64Bits));
    }
}
