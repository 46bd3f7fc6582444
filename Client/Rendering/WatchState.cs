using Cluster.Client.Views;
using Cluster.Grains.Interfaces.Jobs;

namespace Cluster.Client.Rendering;

/// <summary>What <c>job watch</c> knows of a job: folded from its status, progress stream and cluster events.</summary>
internal sealed class WatchState(string jobId)
{
    public const int EventsShown = 6;

    private readonly List<double> _losses = [];
    private readonly List<EventView> _events = [];
    private readonly List<ReplicaChange> _replicaChanges = [];

    /// <summary>The replica count of the last progress update that had replicas running (0: none seen yet).</summary>
    private int _runningReplicas;

    public string JobId { get; } = jobId;

    public JobState State { get; private set; } = JobState.Pending;

    public long Epoch { get; private set; }

    public long Step { get; private set; }

    public long TotalSteps { get; private set; }

    public double? Loss { get; private set; }

    public double TokensPerSecond { get; private set; }

    public double? EtaSeconds { get; private set; }

    public string? Message { get; private set; }

    public long? LastCheckpointStep { get; private set; }

    public IReadOnlyList<string> Nodes { get; private set; } = [];

    /// <summary>Data-parallel replicas running now (0 while the job holds no nodes).</summary>
    public int Replicas { get; private set; }

    public int MinReplicas { get; private set; } = 1;

    public int MaxReplicas { get; private set; } = 1;

    /// <summary>The latest replica count changes, oldest first.</summary>
    public IReadOnlyList<ReplicaChange> ReplicaChanges => _replicaChanges;

    public IReadOnlyList<double> Losses => _losses;

    /// <summary>The latest events, oldest first.</summary>
    public IReadOnlyList<EventView> Events => _events;

    public JobView? Final { get; private set; }

    public bool IsTerminal => State.IsTerminal();

    /// <summary>The job's status (at start and on each poll) with its whole loss history.</summary>
    public void Apply(JobStatus status, IReadOnlyList<double>? losses = null)
    {
        // A poll can be older than a progress update that arrived meanwhile: never step backwards within an epoch.
        if (status.Epoch < Epoch || (status.Epoch == Epoch && status.CompletedSteps < Step && !status.State.IsTerminal())) return;
        State = status.State;
        Epoch = status.Epoch;
        Step = status.CompletedSteps;
        TotalSteps = status.TotalSteps;
        Loss = status.LastLoss ?? Loss;
        TokensPerSecond = status.TokensPerSecond;
        EtaSeconds = status.Eta?.TotalSeconds;
        LastCheckpointStep = status.LastCheckpointStep;
        Nodes = [.. status.Placement.Select(p => p.NodeId)];
        Replicas = status.Replicas;
        MinReplicas = status.MinReplicas;
        MaxReplicas = status.MaxReplicas;
        // The count to compare the first progress update with; changes themselves are read from progress updates only,
        // which come in order (a poll can be older than the progress update before it).
        if (_runningReplicas == 0) _runningReplicas = status.Replicas;
        if (status.Error is not null) Message = status.Error;
        if (losses is not null)
        {
            _losses.Clear();
            _losses.AddRange(losses);
        }
        if (IsTerminal) Final = JobView.From(status);
    }

    /// <summary>A progress update; returns the replica count change it shows, if any.</summary>
    public ReplicaChange? Apply(ProgressView p)
    {
        if (p.Epoch < Epoch || IsTerminal) return null;
        State = p.State;
        Epoch = p.Epoch;
        TotalSteps = p.TotalSteps;
        // A rewind (recovery, restore) goes back: the losses after the step it went back to are trained again.
        if (p.Step < _losses.Count) _losses.RemoveRange((int)p.Step, _losses.Count - (int)p.Step);
        if (p.Loss is { } loss && p.Step == _losses.Count + 1) _losses.Add(loss);
        Step = p.Step;
        Loss = p.Loss ?? Loss;
        TokensPerSecond = p.TokensPerSecond;
        EtaSeconds = p.EtaSeconds;
        if (p.Message is not null) Message = p.Message;
        Replicas = p.Replicas;
        return NoteReplicas(p.Step, p.Replicas, p.At);
    }

    /// <summary>
    /// A change of the running count, from one update with replicas running to the next: a job that holds no nodes for
    /// a while (paused, preempted, recovering) and comes back with as many replicas as before did not change.
    /// </summary>
    private ReplicaChange? NoteReplicas(long step, int replicas, DateTimeOffset at)
    {
        if (replicas <= 0) return null;
        int before = _runningReplicas;
        _runningReplicas = replicas;
        if (before == 0 || before == replicas) return null;
        var change = new ReplicaChange(step, before, replicas, at);
        _replicaChanges.Add(change);
        if (_replicaChanges.Count > EventsShown) _replicaChanges.RemoveAt(0);
        return change;
    }

    public void Apply(EventView e)
    {
        _events.Add(e);
        if (_events.Count > EventsShown) _events.RemoveAt(0);
    }

    /// <summary>Whether a cluster event concerns this job: its own, or one of a node it runs on.</summary>
    public bool Concerns(EventView e) => e.JobId == JobId || (e.JobId is null && e.NodeId is not null && Nodes.Contains(e.NodeId));

}
