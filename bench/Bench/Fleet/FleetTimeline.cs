using System.Collections.Concurrent;
using System.Globalization;
using Cluster.Grains.Interfaces.Events;

namespace Cluster.Bench.Fleet;

/// <summary>What happened during a fleet run and when: the script's own actions and the cluster's events.</summary>
internal sealed class FleetTimeline(DateTimeOffset start)
{
    private static readonly HashSet<ClusterEventKind> s_shown =
    [
        ClusterEventKind.NodeJoined, ClusterEventKind.NodeLost, ClusterEventKind.NodeRecovered, ClusterEventKind.JobPreempted,
        ClusterEventKind.PreemptionFailed, ClusterEventKind.JobUnpaused, ClusterEventKind.JobRecovering, ClusterEventKind.JobReplaced, ClusterEventKind.JobRestored,
        ClusterEventKind.JobResumed, ClusterEventKind.WaitingForCapacity, ClusterEventKind.ReplicasChanged, ClusterEventKind.StagesMoved,
    ];

    private readonly ConcurrentQueue<(DateTimeOffset At, string What, string Detail)> _entries = new();
    private readonly ConcurrentDictionary<string, int> _replicaChanges = new(StringComparer.Ordinal);

    public DateTimeOffset Start { get; } = start;

    public double Seconds(DateTimeOffset at) => (at - Start).TotalSeconds;

    public void Action(string what, string detail)
    {
        var now = DateTimeOffset.UtcNow;
        _entries.Enqueue((now, what, detail));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {Seconds(now),7:F2} s  {what}: {detail}"));
    }

    public Task OnEvent(ClusterEvent e)
    {
        if (s_shown.Contains(e.Kind) && e.At >= Start)
        {
            // Two jobs share the fleet: say whose event it is when the message does not.
            string detail = e.JobId is { } id && !e.Message.Contains($"job {id}", StringComparison.Ordinal) ? $"{id}: {e.Message}" : e.Message;
            _entries.Enqueue((e.At, e.Kind.ToString(), detail));
            // The job's own "replicas A → B" is the change; the scheduler's "asked to shrink" only precedes one.
            if (e.Kind == ClusterEventKind.ReplicasChanged && e.JobId is { } job && e.Message.StartsWith("replicas ", StringComparison.Ordinal))
                _replicaChanges.AddOrUpdate(job, 1, (_, n) => n + 1);
        }
        return Task.CompletedTask;
    }

    /// <summary>How often the job's replica count changed (its own ReplicasChanged events).</summary>
    public int ReplicaChanges(string jobId) => _replicaChanges.GetValueOrDefault(jobId);

    public void Print()
    {
        Console.WriteLine($"{"time (s)",9}  {"event",-20}  detail");
        foreach (var (at, what, detail) in _entries.OrderBy(e => e.At))
        {
            string text = detail.Length > 110 ? detail[..107] + "..." : detail;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{Seconds(at),9:F2}  {what,-20}  {text}"));
        }
    }
}
