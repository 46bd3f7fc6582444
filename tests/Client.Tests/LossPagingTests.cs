using System.Globalization;
using Cluster.Client.Commands;
using Cluster.Grains.Hosting;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Jobs;
using Cluster.Grains.Tests;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Storage;

namespace Cluster.Client.Tests;

/// <summary>
/// <c>job losses</c> over a history several of the console's <see cref="JobLossesCommand.PageSize"/>-loss pages long.
/// Training 12,345 steps would take far too long in a test, so the job's stored state is written the way a job writes
/// it — through its own <see cref="JobStateWriter"/>, into the cluster's job storage (sealed loss chunks plus a tail) —
/// and the job grain then activates on that state like one whose silo restarted; every read goes through the real grain.
/// </summary>
[Collection(ConsoleClusterCollection.Name)]
public sealed class LossPagingTests(ConsoleClusterFixture fixture)
{
    private const int Steps = 2 * JobLossesCommand.PageSize + 2345; // three pages: 5,000 + 5,000 + 2,345

    [Fact]
    public async Task Losses_page_through_a_history_of_several_pages_to_the_bit()
    {
        const string id = "cli-losspage-long";
        double[] losses = await SeedCompletedJob(id, Steps);
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(id);
        Assert.Equal(Steps, (await job.GetStatus()).CompletedSteps);

        // The whole history as CSV: three calls of 5,000 at most, stitched in order, every loss to the bit ("R").
        var csv = await ConsoleHarness.RunAsync(fixture.Client, "job", "losses", id, "--csv");
        Assert.True(csv.ExitCode == 0, csv.ToString()[..Math.Min(2000, csv.ToString().Length)]);
        string[] lines = csv.Raw.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal("step,loss", lines[0]);
        Assert.Equal(Steps, lines.Length - 1);
        for (int i = 0; i < Steps; i++)
        {
            string[] fields = lines[i + 1].Split(',');
            Assert.Equal(i + 1, long.Parse(fields[0], CultureInfo.InvariantCulture));
            Assert.Equal(BitConverter.DoubleToInt64Bits(losses[i]), BitConverter.DoubleToInt64Bits(double.Parse(fields[1], CultureInfo.InvariantCulture)));
        }

        // A range across both page boundaries, and a --limit page whose footer names the next --from.
        var across = (await ConsoleHarness.RunAsync(fixture.Client, "job", "losses", id, "--from", "4990", "--to", "10010", "--json")).Json();
        long[] steps = [.. across.EnumerateArray().Select(p => p.GetProperty("step").GetInt64())];
        Assert.Equal(Enumerable.Range(4990, 10010 - 4990 + 1).Select(s => (long)s), steps);
        Assert.Equal(losses[10009], across[across.GetArrayLength() - 1].GetProperty("loss").GetDouble());
        var limited = await ConsoleHarness.RunAsync(fixture.Client, "job", "losses", id, "--from", "4999", "--limit", "5003");
        Assert.True(limited.ExitCode == 0, limited.ToString()[..Math.Min(2000, limited.ToString().Length)]);
        Assert.Contains($"steps 4999–10001 of {Steps}; next page: --from 10002", limited.Out);
        var tail = (await ConsoleHarness.RunAsync(fixture.Client, "job", "losses", id, "--tail", "3", "--json")).Json();
        Assert.Equal([Steps - 2L, Steps - 1L, Steps], tail.EnumerateArray().Select(p => p.GetProperty("step").GetInt64()));

        // The grain's own pages: the second page starts where the first ended, the last is short.
        var second = await job.GetLosses(JobLossesCommand.PageSize + 1, JobLossesCommand.PageSize);
        Assert.Equal(losses.Skip(JobLossesCommand.PageSize).Take(JobLossesCommand.PageSize), second.Losses);
        var third = await job.GetLosses(2 * JobLossesCommand.PageSize + 1, JobLossesCommand.PageSize);
        Assert.Equal(2345, third.Losses.Count);
        Assert.Equal(Steps, third.TotalSteps);
        await Assert.ThrowsAnyAsync<ArgumentOutOfRangeException>(() => job.GetLosses(1, TrainingJobGrain.MaxLossPage + 1));
    }

    /// <summary>Writes a completed job's state with <paramref name="steps"/> losses as its job grain would, before that grain ever activates.</summary>
    private async Task<double[]> SeedCompletedJob(string id, int steps)
    {
        var silo = fixture.Cluster.Silos[0].ServiceProvider;
        var storage = silo.GetRequiredKeyedService<IGrainStorage>(StorageNames.Jobs);
        var grainId = fixture.Client.GetGrain<ITrainingJobGrain>(id).GetGrainId();
        var writer = new JobStateWriter(storage, grainId, TimeProvider.System, new JobCoordinatorOptions(), NullLogger.Instance);
        await writer.ReadAsync();
        Assert.Null(writer.State.Spec); // a fresh id: the grain has never run
        var losses = new double[steps];
        for (int i = 0; i < steps; i++)
        {
            losses[i] = 6.0 / (1 + i * 1e-3) + Math.Sin(i) * 1e-7; // distinct, not round numbers
            writer.AddLoss(losses[i]);
        }
        writer.State.Spec = TinyJob.Spec(id, stages: 2, steps: steps);
        writer.State.State = JobState.Completed;
        writer.State.CompletedSteps = steps;
        writer.State.Epoch = 1;
        writer.State.SubmittedAt = DateTimeOffset.UtcNow;
        await writer.Flush();
        return losses;
    }
}
