using System.Threading.Channels;
using Orleans.Streams;

namespace Cluster.Client.Data;

/// <summary>
/// Subscribes to one of the cluster's memory streams and forwards what arrives to a channel; unsubscribes on dispose
/// (a subscription left behind would make the cluster keep delivering to a console that is gone).
/// </summary>
internal sealed class StreamSubscription<T> : IAsyncDisposable
{
    private readonly StreamSubscriptionHandle<T> _handle;

    private StreamSubscription(StreamSubscriptionHandle<T> handle) => _handle = handle;

    public static async Task<StreamSubscription<T>> StartAsync<TOut>(IClusterClient client, string provider, string ns, string key,
        ChannelWriter<TOut> writer, Func<T, TOut?> map)
        where TOut : class
    {
        var stream = client.GetStreamProvider(provider).GetStream<T>(StreamId.Create(ns, key));
        var handle = await stream.SubscribeAsync((item, _) =>
        {
            if (map(item) is { } mapped) writer.TryWrite(mapped);
            return Task.CompletedTask;
        });
        return new StreamSubscription<T>(handle);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _handle.UnsubscribeAsync().WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception)
        {
            // Leaving: the cluster may be gone already; a stale subscription is cleaned up when delivery to it fails.
        }
    }
}
