using Cluster.Grains.Interfaces.Events;

namespace Cluster.Client.Views;

/// <summary>The cursors a recorded-events page hands back: what to give to <c>--before</c>/<c>--after</c> next (null: no more that way).</summary>
internal static class EventPageCursors
{
    public static long? Older(JobEventPage page) => page.MoreBefore && page.Events.Count > 0 ? page.Events[0].Seq : null;

    public static long? Newer(JobEventPage page) => page.MoreAfter && page.Events.Count > 0 ? page.Events[^1].Seq : null;
}
