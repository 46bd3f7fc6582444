using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Orleans.Streams;

namespace Cluster.Grains.Hosting;

/// <summary>Publishes <see cref="ClusterEvent"/>s from a grain; best-effort, never fails the caller.</summary>
internal static class ClusterEvents
{
    public static async Task Publish(this Grain grain, ClusterEvent e)
    {
        try
        {
            await grain.GetStreamProvider(JobStreams.Provider)
                .GetStream<ClusterEvent>(StreamId.Create(JobStreams.EventsNamespace, JobStreams.EventsKey))
                .OnNextAsync(e);
        }
        catch (Exception)
        {
            // Events are for watching; a stream hiccup must never stop training or recovery.
        }
    }
}
