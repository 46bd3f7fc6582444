using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Scheduling;

namespace Cluster.Grains.Tests;

/// <summary>
/// Issue 13's "never two jobs on one GPU", watched from outside: every 100 ms, the nodes each running job says it runs
/// on (its own copy) and the stages the scheduler lists per node (its table); a node in two jobs' lists, in either view,
/// is double-booked. Calls that fail while the scheduler, a silo or a gateway moves are sampled again.
/// </summary>
internal static class DoubleBookingSampler
{
    public static async Task Sample(ITrainingJobGrain[] jobs, ISchedulerGrain scheduler, List<string> doubleBooked, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var statuses = await Task.WhenAll(jobs.Select(j => j.GetStatus())).WaitAsync(TimeSpan.FromSeconds(5), stop);
                foreach (var node in statuses.Where(s => s.State is JobState.Running or JobState.Checkpointing)
                             .SelectMany(s => s.Placement.Select(p => (p.NodeId, s.JobId)).Distinct())
                             .GroupBy(x => x.NodeId).Where(g => g.Count() > 1))
                    doubleBooked.Add($"{node.Key} runs {string.Join(" and ", node.Select(x => x.JobId))}");
                foreach (var node in await scheduler.GetNodes().WaitAsync(TimeSpan.FromSeconds(5), stop))
                {
                    string[] holders = [.. node.Stages.Select(s => s[..s.IndexOf('/', StringComparison.Ordinal)]).Distinct()];
                    if (holders.Length > 1) doubleBooked.Add($"the scheduler gives {node.Capabilities.NodeId} to {string.Join(" and ", holders)}");
                }
                await Task.Delay(TimeSpan.FromMilliseconds(100), stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is TimeoutException or OrleansException or SiloUnavailableException)
            {
                // The scheduler, a silo or a gateway is moving: sample again.
            }
        }
    }
}
