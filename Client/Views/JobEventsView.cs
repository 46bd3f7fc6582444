using Cluster.Grains.Interfaces.Events;

namespace Cluster.Client.Views;

/// <summary>
/// <c>job events</c>: a page of the job's recorded history, oldest first. <see cref="FirstKept"/>..<see cref="Last"/> are
/// the numbers the cluster still keeps (<see cref="Dropped"/> older ones went to keep the history bounded);
/// <see cref="OlderCursor"/>/<see cref="NewerCursor"/> are what to give to <c>--before</c>/<c>--after</c> for the next
/// page either way (null: none).
/// </summary>
internal sealed record JobEventsView(string JobId, IReadOnlyList<JobEventView> Events, long FirstKept, long Last, long Dropped, long? OlderCursor, long? NewerCursor)
{
    public static JobEventsView From(string jobId, JobEventPage page) => new(
        jobId,
        [.. page.Events.Select(JobEventView.From)], page.FirstKept, page.Last, page.Dropped, EventPageCursors.Older(page), EventPageCursors.Newer(page));
}
