using Cluster.Grains.Interfaces.Scheduling;

namespace Cluster.Client.Views;

/// <summary>One job waiting for nodes, as <c>queue</c> shows it: where it stands in service order and why it waits.</summary>
internal sealed record QueuedJobView(
    int Position,
    string JobId,
    string Team,
    int Priority,
    DateTimeOffset SubmittedAt,
    DateTimeOffset WaitingSince,
    double WaitingSeconds,
    int NodesNeeded,
    string Reason)
{
    public static QueuedJobView From(QueuedJob q, DateTimeOffset now) => new(
        q.Position,
        q.Ticket.JobId,
        q.Ticket.Team,
        q.Ticket.Priority,
        q.Ticket.SubmittedAt,
        q.WaitingSince,
        Math.Round(Math.Max(0, (now - q.WaitingSince).TotalSeconds), 1),
        q.NodesNeeded,
        q.Reason);
}
