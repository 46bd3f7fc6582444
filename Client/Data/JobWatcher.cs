using System.Threading.Channels;
using Cluster.Client.Views;
using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;

namespace Cluster.Client.Data;

/// <summary>
/// Follows one job: its progress stream and the cluster's event stream as they happen, plus its status every
/// <see cref="PollPeriod"/> (a stream delivery can be missed, e.g. the job finished before the subscription took).
/// Subscribed before the caller reads the job's status, so nothing that happens after that read is lost.
/// </summary>
internal sealed class JobWatcher : IAsyncDisposable
{
    public static readonly TimeSpan PollPeriod = TimeSpan.FromSeconds(2);

    /// <summary>How long status calls may fail in a row before the watch gives up.</summary>
    public static readonly TimeSpan GiveUpAfter = TimeSpan.FromSeconds(30);

    private readonly Channel<WatchUpdate> _updates = Channel.CreateUnbounded<WatchUpdate>();
    private readonly CancellationTokenSource _stop = new();
    private readonly TimeProvider _time;
    private StreamSubscription<JobProgress>? _progress;
    private StreamSubscription<ClusterEvent>? _events;
    private Task _poller = Task.CompletedTask;

    private JobWatcher(TimeProvider time) => _time = time;

    public ChannelReader<WatchUpdate> Updates => _updates.Reader;

    public static async Task<JobWatcher> StartAsync(IClusterClient client, TimeProvider time, string jobId)
    {
        var watcher = new JobWatcher(time);
        try
        {
            watcher._progress = await StreamSubscription<JobProgress>.StartAsync(client, JobStreams.Provider, JobStreams.ProgressNamespace, jobId,
                watcher._updates.Writer, p => new WatchUpdate(Progress: ProgressView.From(p)));
            watcher._events = await StreamSubscription<ClusterEvent>.StartAsync(client, JobStreams.Provider, JobStreams.EventsNamespace, JobStreams.EventsKey,
                watcher._updates.Writer, e => new WatchUpdate(Event: EventView.From(e)));
            watcher._poller = watcher.PollAsync(client.GetGrain<ITrainingJobGrain>(jobId), watcher._stop.Token);
            return watcher;
        }
        catch
        {
            await watcher.DisposeAsync();
            throw;
        }
    }

    private async Task PollAsync(ITrainingJobGrain job, CancellationToken cancellationToken)
    {
        DateTimeOffset? failingSince = null;
        while (!cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(PollPeriod, _time, cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
            if (cancellationToken.IsCancellationRequested) return;
            try
            {
                _updates.Writer.TryWrite(new WatchUpdate(Status: await job.GetStatus().WaitAsync(cancellationToken)));
                failingSince = null;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // A silo restarting can fail a call or two; a cluster gone for good ends the watch with the error.
                failingSince ??= _time.GetUtcNow();
                if (_time.GetUtcNow() - failingSince > GiveUpAfter)
                {
                    _updates.Writer.TryComplete(e);
                    return;
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _poller;
        if (_events is not null) await _events.DisposeAsync();
        if (_progress is not null) await _progress.DisposeAsync();
        _stop.Dispose();
    }
}
