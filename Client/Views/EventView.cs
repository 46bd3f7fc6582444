using Cluster.Grains.Interfaces.Events;

namespace Cluster.Client.Views;

/// <summary>
/// One cluster event (<c>events</c>, <c>job watch</c>); <see cref="Type"/> is always "event" for NDJSON readers;
/// <see cref="Reason"/> is why an operator acted, when they said.
/// </summary>
internal sealed record EventView(DateTimeOffset At, ClusterEventKind Kind, string? JobId, string? NodeId, long Epoch, long Step, long StepsLost, double? Seconds, string Message,
    string? Reason = null)
{
    public string Type => "event";

    public static EventView From(ClusterEvent e) => new(e.At, e.Kind, e.JobId, e.NodeId, e.Epoch, e.Step, e.StepsLost, e.Seconds, e.Message, e.Reason);
}
