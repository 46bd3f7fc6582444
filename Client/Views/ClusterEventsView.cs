using Cluster.Grains.Interfaces.Events;

namespace Cluster.Client.Views;

/// <summary>
/// <c>events --history</c> and <c>node events</c>: a page of the cluster's recorded node events (cordons, drains, nodes
/// lost, recovered and joined, stragglers), oldest first; <see cref="NodeId"/> when only one node's are shown. Numbers
/// are the cluster history's (<see cref="FirstKept"/>..<see cref="Last"/> kept, <see cref="Dropped"/> older ones gone);
/// <see cref="OlderCursor"/>/<see cref="NewerCursor"/> are what to give to <c>--before</c>/<c>--after</c> next (null: none).
/// </summary>
internal sealed record ClusterEventsView(string? NodeId, IReadOnlyList<JobEventView> Events, long FirstKept, long Last, long Dropped, long? OlderCursor, long? NewerCursor)
{
    public static ClusterEventsView From(string? nodeId, JobEventPage page) => new(
        nodeId,
        [.. page.Events.Select(JobEventView.From)], page.FirstKept, page.Last, page.Dropped, EventPageCursors.Older(page), EventPageCursors.Newer(page));
}
