using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Scheduling;

namespace Cluster.Bench.Fleet;

/// <summary>
/// Node utilisation, sampled: every period, the nodes the scheduler counts as up (heartbeating, not lost) and, of
/// those, the ones running a stage of a job in state Running. Each sample is weighted by the time since the previous
/// one, so a slow call on a busy machine does not skew the ratio. It also keeps the most replicas each job ran at once,
/// and the most jobs seen holding one node in a sample — in the scheduler's table (the jobs of the stages it lists on
/// the node) or in the jobs' own copies (the placements of jobs in state Running or Checkpointing).
/// </summary>
internal sealed class UtilisationSampler(IClusterClient client, IReadOnlyList<string> jobIds, TimeSpan period) : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Dictionary<string, int> _maxReplicas = new(StringComparer.Ordinal);
    private Task _loop = Task.CompletedTask;

    public double BusyNodeSeconds { get; private set; }

    public double UpNodeSeconds { get; private set; }

    public int Samples { get; private set; }

    /// <summary>The most jobs seen holding one node in any sample (0 before any job ran).</summary>
    public int MostJobsOnOneNode { get; private set; }

    /// <summary>The <c>double_booked</c> figure: <see cref="MostJobsOnOneNode"/> minus one, floored at 0.</summary>
    public int DoubleBooked => Math.Max(0, MostJobsOnOneNode - 1);

    public double Utilisation => UpNodeSeconds > 0 ? BusyNodeSeconds / UpNodeSeconds : 0;

    /// <summary>The most data-parallel replicas the job was seen running (state Running) in a sample.</summary>
    public int MaxReplicas(string jobId) => _maxReplicas.GetValueOrDefault(jobId);

    public void Start() => _loop = RunAsync(_stop.Token);

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var scheduler = client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);
        var last = DateTimeOffset.UtcNow;
        using var timer = new PeriodicTimer(period);
        while (await timer.WaitForNextTickAsync(cancellationToken).AsTask().ContinueWith(t => t.IsCompletedSuccessfully && t.Result, TaskScheduler.Default))
        {
            try
            {
                var nodes = await scheduler.GetNodes();
                var statuses = await Task.WhenAll(jobIds.Select(id => client.GetGrain<ITrainingJobGrain>(id).GetStatus()));
                var running = statuses.Where(s => s.State == JobState.Running).Select(s => s.JobId + "/").ToArray();
                var up = nodes.Where(n => n.Health is not null && !n.Lost).ToArray();
                int busy = up.Count(n => n.Stages.Any(stage => running.Any(prefix => stage.StartsWith(prefix, StringComparison.Ordinal))));
                var now = DateTimeOffset.UtcNow;
                double dt = (now - last).TotalSeconds;
                last = now;
                BusyNodeSeconds += busy * dt;
                UpNodeSeconds += up.Length * dt;
                Samples++;
                int inTable = nodes.Select(n => n.Stages.Select(stage => stage[..Math.Max(0, stage.IndexOf('/', StringComparison.Ordinal))]).Distinct(StringComparer.Ordinal).Count())
                    .DefaultIfEmpty(0).Max();
                int inJobs = statuses.Where(s => s.State is JobState.Running or JobState.Checkpointing)
                    .SelectMany(s => s.Placement.Select(p => p.NodeId).Distinct(StringComparer.Ordinal))
                    .GroupBy(node => node, StringComparer.Ordinal).Select(g => g.Count()).DefaultIfEmpty(0).Max();
                MostJobsOnOneNode = Math.Max(MostJobsOnOneNode, Math.Max(inTable, inJobs));
                foreach (var status in statuses.Where(s => s.State == JobState.Running))
                    _maxReplicas[status.JobId] = Math.Max(_maxReplicas.GetValueOrDefault(status.JobId), status.Replicas);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // A call can fail while a silo dies; the next sample covers the gap.
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }
}
