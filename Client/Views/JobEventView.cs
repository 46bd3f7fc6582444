using Cluster.Grains.Interfaces.Events;

namespace Cluster.Client.Views;

/// <summary>One recorded event of a job (<c>job events</c>): its number in the job's history, then the event.</summary>
internal sealed record JobEventView(long Seq, DateTimeOffset At, ClusterEventKind Kind, string? NodeId, long Epoch, long Step, long StepsLost, double? Seconds,
    string Message, string? Reason)
{
    public static JobEventView From(JobEventRecord r) =>
        new(r.Seq, r.Event.At, r.Event.Kind, r.Event.NodeId, r.Event.Epoch, r.Event.Step, r.Event.StepsLost, r.Event.Seconds, r.Event.Message, r.Event.Reason);
}
