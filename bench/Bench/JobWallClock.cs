using System.Diagnostics;
using Cluster.Grains.Interfaces.Jobs;

namespace Cluster.Bench;

/// <summary>
/// Wall time per step as a user sees it: from the first status that shows the warm-up done to the first that shows
/// every step done, divided by the steps in between — snapshots, checkpoints, state saves and progress events of those
/// steps included (the final checkpoint after the last step is not). Polled every 10 ms within a step of either end of
/// the window, where the poll sets the measurement's precision, and every 100 ms elsewhere (<see cref="PollDelay"/>): a
/// status call every 10 ms throughout is load a user's job does not carry (≈ 1 % of a core in a dp2 profile). Over the same window it also
/// reads this process's CPU time (and its device threads', <see cref="DeviceThreadsCpu"/>), the device workers' busy
/// wall time when given (the time their threads ran operations, preempted or not) and garbage collections: with the cluster in this process they are the cost of the
/// job's steps (and of the benchmark's polling), which tells CPU work from waiting. The warm-up steps' own wall time per
/// step (from the first status that shows a step done to the one that shows the warm-up done) is kept beside it: the
/// first steps of a process run JIT-compiled code of the lowest tier until tiered compilation catches up.
/// </summary>
internal static class JobWallClock
{
    public static async Task<JobStepCost> MeasureAsync(IClusterClient client, JobSpec spec, int warmup, TimeSpan timeout, Func<double>? deviceBusyMs = null)
    {
        var job = client.GetGrain<ITrainingJobGrain>(spec.JobId);
        await job.Submit(spec);
        var deadline = Stopwatch.StartNew();
        Stopwatch? clock = null;
        Stopwatch? firstSteps = null;
        long firstStep = 0;
        double warmupMsPerStep = 0;
        ProcessCost start = default;
        long from = 0;
        while (true)
        {
            var status = await job.GetStatus();
            if (status.State is JobState.Failed or JobState.Cancelled)
                throw new InvalidOperationException($"{spec.JobId}: job {status.State}: {status.Error}");
            if (firstSteps is null && status.CompletedSteps >= 1)
                (firstSteps, firstStep) = (Stopwatch.StartNew(), status.CompletedSteps);
            if (clock is null && status.CompletedSteps >= warmup)
            {
                if (status.CompletedSteps > firstStep && firstSteps is not null)
                    warmupMsPerStep = firstSteps.Elapsed.TotalMilliseconds / (status.CompletedSteps - firstStep);
                clock = Stopwatch.StartNew();
                start = ProcessCost.Now(deviceBusyMs);
                from = status.CompletedSteps;
            }
            if (clock is not null && status.CompletedSteps >= spec.Steps)
            {
                if (status.CompletedSteps == from)
                    throw new InvalidOperationException($"{spec.JobId}: every step ran before the first poll after warm-up; use more --steps.");
                var used = ProcessCost.Now(deviceBusyMs) - start;
                double steps = status.CompletedSteps - from;
                return new JobStepCost(clock.Elapsed.TotalMilliseconds / steps, used.CpuMs / steps, used.Gen2 / steps, used.PauseMs / steps, warmupMsPerStep, used.DeviceCpuMs / steps, used.DeviceBusyMs / steps);
            }
            if (deadline.Elapsed > timeout) throw new TimeoutException($"{spec.JobId}: not done in {timeout.TotalMinutes:F0} minutes.");
            await Task.Delay(PollDelay(status.CompletedSteps, warmup, spec.Steps, measuring: clock is not null));
        }
    }

    /// <summary>
    /// How long to wait before the next status poll: 10 ms once the job is within a step of the end it waits for (the
    /// warm-up's, then the last step), so each end is seen within 10 ms of it; 100 ms while it is further away.
    /// </summary>
    public static TimeSpan PollDelay(long completedSteps, int warmup, long steps, bool measuring) =>
        TimeSpan.FromMilliseconds(completedSteps + 1 >= (measuring ? steps : warmup) ? 10 : 100);

    private readonly record struct ProcessCost(double CpuMs, int Gen2, double PauseMs, double DeviceCpuMs, double DeviceBusyMs)
    {
        public static ProcessCost Now(Func<double>? deviceBusyMs)
        {
            using var self = Process.GetCurrentProcess();
            return new(self.TotalProcessorTime.TotalMilliseconds, GC.CollectionCount(2), GC.GetTotalPauseDuration().TotalMilliseconds, DeviceThreadsCpu.Ms(), deviceBusyMs?.Invoke() ?? 0);
        }

        public static ProcessCost operator -(ProcessCost a, ProcessCost b) =>
            new(a.CpuMs - b.CpuMs, a.Gen2 - b.Gen2, a.PauseMs - b.PauseMs, a.DeviceCpuMs - b.DeviceCpuMs, a.DeviceBusyMs - b.DeviceBusyMs);
    }
}
