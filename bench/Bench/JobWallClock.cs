using System.Diagnostics;
using Cluster.Grains.Interfaces.Jobs;

namespace Cluster.Bench;

/// <summary>
/// Wall time per step as a user sees it: from the first status that shows the warm-up done to the first that shows
/// every step done, divided by the steps in between — snapshots, checkpoints, state saves and progress events of those
/// steps included (the final checkpoint after the last step is not). Polled every 10 ms.
/// </summary>
internal static class JobWallClock
{
    public static async Task<double> MeasureMsPerStepAsync(IClusterClient client, JobSpec spec, int warmup, TimeSpan timeout)
    {
        var job = client.GetGrain<ITrainingJobGrain>(spec.JobId);
        await job.Submit(spec);
        var deadline = Stopwatch.StartNew();
        Stopwatch? clock = null;
        long from = 0;
        while (true)
        {
            var status = await job.GetStatus();
            if (status.State is JobState.Failed or JobState.Cancelled)
                throw new InvalidOperationException($"{spec.JobId}: job {status.State}: {status.Error}");
            if (clock is null && status.CompletedSteps >= warmup)
            {
                clock = Stopwatch.StartNew();
                from = status.CompletedSteps;
            }
            if (clock is not null && status.CompletedSteps >= spec.Steps)
            {
                if (status.CompletedSteps == from)
                    throw new InvalidOperationException($"{spec.JobId}: every step ran before the first poll after warm-up; use more --steps.");
                return clock.Elapsed.TotalMilliseconds / (status.CompletedSteps - from);
            }
            if (deadline.Elapsed > timeout) throw new TimeoutException($"{spec.JobId}: not done in {timeout.TotalMinutes:F0} minutes.");
            await Task.Delay(10);
        }
    }
}
