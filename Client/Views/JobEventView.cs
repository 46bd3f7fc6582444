using Cluster.Grains.Interfaces.Events;

namespace Cluster.Client.Views;

/// <summary>
/// One recorded event (<c>job events</c>, <c>node events</c>): its number in the history, then the event;
/// <see cref="Principal"/> names the operator who asked for it (null for the cluster's own decisions).
/// </summary>
internal sealed record JobEventView(long Seq, DateTimeOffset At, ClusterEventKind Kind, string? NodeId, long Epoch, long Step, long StepsLost, double? Seconds,
    string Message, string? Reason, string? Principal = null)
{
    public static JobEventView From(JobEventRecord r) =>
        new(r.Seq, r.Event.At, r.Event.Kind, r.Event.NodeId, r.Event.Epoch, r.Event.Step, r.Event.StepsLost, r.Event.Seconds, r.Event.Message, r.Event.Reason, r.Event.Principal);
}
