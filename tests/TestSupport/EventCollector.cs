using System.Collections.Concurrent;
using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Orleans.Streams;

namespace Cluster.Grains.Tests;

/// <summary>Collects the cluster's events for a test; unsubscribes (best effort, bounded) however the test ends.</summary>
internal sealed class EventCollector : IAsyncDisposable
{
    private readonly ConcurrentQueue<ClusterEvent> _events = new();
    private StreamSubscriptionHandle<ClusterEvent>? _subscription;

    public IReadOnlyCollection<ClusterEvent> Events => _events;

    public static async Task<EventCollector> StartAsync(IClusterClient client)
    {
        var collector = new EventCollector();
        var stream = client.GetStreamProvider(JobStreams.Provider).GetStream<ClusterEvent>(StreamId.Create(JobStreams.EventsNamespace, JobStreams.EventsKey));
        collector._subscription = await stream.SubscribeAsync((e, _) => { collector._events.Enqueue(e); return Task.CompletedTask; });
        return collector;
    }

    public async ValueTask DisposeAsync()
    {
        if (_subscription is null) return;
        try
        {
            await _subscription.UnsubscribeAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception)
        {
            // The cluster may be half gone after a failure test; the subscription dies with it.
        }
    }
}
