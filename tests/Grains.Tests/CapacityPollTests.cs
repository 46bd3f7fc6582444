using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Scheduling;

namespace Cluster.Grains.Tests;

/// <summary>
/// A job waiting for capacity asks the scheduler once per <c>CapacityPollPeriod</c> (1 s), also after an operator paused
/// and resumed it. Before, the pause's request left the job's wake-up signal set for good, and every later wait — the
/// capacity poll, a recovery's back-off — ended at once: the job asked the scheduler in a tight loop.
/// </summary>
public sealed class CapacityPollTests(FilteredClusterFixture<CallTimes> fixture) : IClassFixture<FilteredClusterFixture<CallTimes>>
{
    private CallTimes Placements => fixture.Filter;

    [Fact]
    public async Task A_job_resumed_into_a_full_cluster_asks_for_capacity_once_per_poll_period()
    {
        var spec = TinyJob.Spec("capacity-poll", stages: 2, steps: 100_000, checkpointInterval: 100_000) with { Team = "capacity-poll" };
        var scheduler = fixture.Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);
        await JobRuns.WhileRunning(fixture.Client, spec, async job =>
        {
            try
            {
                await Eventually.Value(job.GetStatus, s => s.CompletedSteps >= 3 || JobRuns.IsFinished(s), JobRuns.Deadline, "3 steps");
                Assert.Equal(JobState.Paused, (await job.Pause().WaitAsync(JobRuns.Deadline)).State);
                await scheduler.SetQuota(spec.Team, 0); // the team may hold no node: the job waits for capacity
                Placements.Watch<ISchedulerGrain>(nameof(ISchedulerGrain.PlaceReplicas), spec.JobId);
                await job.Resume();
                await Eventually.True(() => Task.FromResult(Placements.Times.Count >= 6), JobRuns.Deadline, "6 placement requests");
                var times = Placements.Times;
                // The first two may come at once (the resume's own, and one more as the wait that the pause set off ends);
                // from then on one per period (1 s): three periods between the 3rd and the 6th. A slow machine only
                // spreads them further.
                var threePeriods = times[5] - times[2];
                Assert.True(threePeriods >= TimeSpan.FromSeconds(2.5),
                    $"{times.Count} placement requests, the first at {string.Join(", ", times.Take(12).Select(t => $"{t.TotalMilliseconds:F0} ms"))}: three polls took {threePeriods.TotalMilliseconds:F0} ms");
                Assert.Equal(JobState.WaitingForCapacity, (await job.GetStatus()).State);
            }
            finally
            {
                await scheduler.SetQuota(spec.Team, null);
            }
        });
    }
}
