using System.Globalization;
using Cluster.Client.Views;
using Cluster.Grains.Interfaces.Events;

namespace Cluster.Client.Rendering;

/// <summary>One cluster event as one line, in the demo's style: time, kind, seconds since the failure, message.</summary>
internal static class EventLine
{
    public static string Markup(EventView e) =>
        $"[{Colour(e.Kind)}]![/] {Formats.Time(e.At)} [bold]{e.Kind}[/]" +
        (e.Seconds is { } s ? $" (+{s.ToString("0.00", CultureInfo.InvariantCulture)} s)" : "") +
        $": {Spectre.Console.Markup.Escape(e.Message)}";

    private static string Colour(ClusterEventKind kind) => kind switch
    {
        // A failed preemption checkpoint: the job keeps nodes another job waits for.
        ClusterEventKind.NodeLost or ClusterEventKind.JobRecovering or ClusterEventKind.CheckpointRejected or ClusterEventKind.PreemptionFailed => "red",
        // A replica count change (shrink after a failure, growth onto free nodes) is a decision worth a look, like a drain.
        ClusterEventKind.WaitingForCapacity or ClusterEventKind.JobPreempted or ClusterEventKind.StragglerFlagged or ClusterEventKind.NodeDraining or ClusterEventKind.NodeCordoned
            or ClusterEventKind.ReplicasChanged => "yellow",
        _ => "green",
    };
}
