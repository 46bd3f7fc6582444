using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Orleans.Streams;

namespace Cluster.Grains.Hosting;

/// <summary>Publishes <see cref="ClusterEvent"/>s from a grain; best-effort, never fails the caller.</summary>
internal static class ClusterEvents
{
    public static async Task Publish(this Grain grain, ClusterEvent e)
    {
        var stream = grain.GetStreamProvider(JobStreams.Provider)
            .GetStream<ClusterEvent>(StreamId.Create(JobStreams.EventsNamespace, JobStreams.EventsKey));
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                await stream.OnNextAsync(e);
                return;
            }
            catch (Exception) when (attempt < 3)
            {
                // Right after a silo loss the stream's queue may have died with it; the retry reaches its new home.
                await Task.Delay(TimeSpan.FromMilliseconds(100 * attempt));
            }
            catch (Exception)
            {
                return; // events are for watching: a stream hiccup must never stop training or recovery
            }
        }
    }
}
