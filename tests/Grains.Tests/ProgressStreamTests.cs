using System.Collections.Concurrent;
using Cluster.Grains.Interfaces.Jobs;
using Orleans.Streams;

namespace Cluster.Grains.Tests;

public sealed class ProgressStreamTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    [Fact]
    public async Task A_client_sees_every_step_checkpoint_and_the_completion_on_the_progress_stream()
    {
        var spec = TinyJob.Spec("progress-stream", stages: 2, steps: 6, checkpointInterval: 3);
        var events = new ConcurrentQueue<JobProgress>();
        var stream = fixture.Client.GetStreamProvider(JobStreams.Provider)
            .GetStream<JobProgress>(StreamId.Create(JobStreams.ProgressNamespace, spec.JobId));
        var subscription = await stream.SubscribeAsync((progress, _) =>
        {
            events.Enqueue(progress);
            return Task.CompletedTask;
        });
        try
        {
            var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
            await job.Submit(spec);
            await Eventually.True(() => Task.FromResult(events.Any(e => e.State is JobState.Completed or JobState.Failed or JobState.Cancelled)),
                TimeSpan.FromMinutes(3), "a final progress event");
            // The last checkpoint's commit is published before completion; wait for it too, in case of late delivery.
            await Eventually.True(() => Task.FromResult(events.Any(e => e.Message?.Contains("step 6 committed", StringComparison.Ordinal) == true)),
                TimeSpan.FromSeconds(30), "the commit of the step-6 checkpoint on the stream");

            var seen = events.ToArray();
            var status = await job.GetStatus();
            Assert.True(status.State == JobState.Completed, $"job ended {status.State}: {status.Error}");
            Assert.Contains(seen, e => e.State == JobState.Completed && e.Step == 6);

            Assert.All(seen, e =>
            {
                Assert.Equal(spec.JobId, e.JobId);
                Assert.Equal(6, e.TotalSteps);
                Assert.InRange(e.Step, 0, 6);
            });

            // Steps only go forward, and every step is reported.
            long[] steps = [.. seen.Where(e => e.Loss is not null).Select(e => e.Step)];
            for (int i = 1; i < steps.Length; i++)
                Assert.True(steps[i] >= steps[i - 1], $"step went back from {steps[i - 1]} to {steps[i]}: {string.Join(", ", steps)}");
            Assert.Equal([1L, 2, 3, 4, 5, 6], steps.Distinct());

            // Each reported loss is the job's loss of that step, bit for bit.
            var history = await job.GetLossHistory();
            Assert.Equal(6, history.Count);
            foreach (var e in seen.Where(e => e.Loss is not null))
                Assert.True(BitConverter.DoubleToInt64Bits(history[(int)e.Step - 1]) == BitConverter.DoubleToInt64Bits(e.Loss!.Value),
                    $"step {e.Step}: stream loss {e.Loss:R}, history {history[(int)e.Step - 1]:R}");
            Assert.All(seen.Where(e => e.Loss is null), e => Assert.Equal(0, e.Step)); // before the first step there is no loss

            // Checkpoints at 3 and 6 were announced and their commits reported.
            Assert.Contains(seen, e => e.State == JobState.Checkpointing && e.Message == "checkpointing step 3");
            Assert.Contains(seen, e => e.State == JobState.Checkpointing && e.Message == "checkpointing step 6");
            Assert.Contains(seen, e => e.Message?.Contains("checkpoint at step 3 committed", StringComparison.Ordinal) == true);
            Assert.Contains(seen, e => e.Message?.Contains("checkpoint at step 6 committed", StringComparison.Ordinal) == true);
            Assert.Contains(seen, e => e.State == JobState.Placing);
        }
        finally
        {
            await subscription.UnsubscribeAsync();
        }
    }
}
