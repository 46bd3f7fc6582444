using Cluster.Client.Views;
using Cluster.Grains.Interfaces.Jobs;

namespace Cluster.Client.Rendering;

/// <summary>What <c>job watch</c> knows of a job: folded from its status, progress stream and cluster events.</summary>
internal sealed class WatchState(string jobId)
{
    public const int EventsShown = 6;

    private readonly List<double> _losses = [];
    private readonly List<EventView> _events = [];

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

    public IReadOnlyList<double> Losses => _losses;

    /// <summary>The latest events, oldest first.</summary>
    public IReadOnlyList<EventView> Events => _events;

    public JobView? Final { get; private set; }

    public bool IsTerminal => State is JobState.Completed or JobState.Failed or JobState.Cancelled;

    /// <summary>The job's status (at start and on each poll) with its whole loss history.</summary>
    public void Apply(JobStatus status, IReadOnlyList<double>? losses = null)
    {
        // A poll can be older than a progress update that arrived meanwhile: never step backwards within an epoch.
        if (status.Epoch < Epoch || (status.Epoch == Epoch && status.CompletedSteps < Step && !IsTerminalState(status.State))) return;
        State = status.State;
        Epoch = status.Epoch;
        Step = status.CompletedSteps;
        TotalSteps = status.TotalSteps;
        Loss = status.LastLoss ?? Loss;
        TokensPerSecond = status.TokensPerSecond;
        EtaSeconds = status.Eta?.TotalSeconds;
        LastCheckpointStep = status.LastCheckpointStep;
        Nodes = [.. status.Placement.Select(p => p.NodeId)];
        if (status.Error is not null) Message = status.Error;
        if (losses is not null)
        {
            _losses.Clear();
            _losses.AddRange(losses);
        }
        if (IsTerminal) Final = JobView.From(status);
    }

    public void Apply(ProgressView p)
    {
        if (p.Epoch < Epoch || IsTerminal) return;
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
    }

    public void Apply(EventView e)
    {
        _events.Add(e);
        if (_events.Count > EventsShown) _events.RemoveAt(0);
    }

    /// <summary>Whether a cluster event concerns this job: its own, or one of a node it runs on.</summary>
    public bool Concerns(EventView e) => e.JobId == JobId || (e.JobId is null && e.NodeId is not null && Nodes.Contains(e.NodeId));

    private static bool IsTerminalState(JobState s) => s is JobState.Completed or JobState.Failed or JobState.Cancelled;
}
