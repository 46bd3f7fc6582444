using Cluster.Grains.Interfaces.Jobs;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cluster.Grains.Hosting;

/// <summary>
/// Wakes unfinished jobs. A job grain drives its own loop; when the silo hosting it dies, nothing would call it again.
/// Every silo therefore touches each active job every <see cref="TrainingClusterOptions.JobWatchdogPeriod"/>: the
/// first call after a loss reactivates the grain elsewhere from its persisted state, and it carries on by itself. The
/// call also supervises: a job whose driver loop stopped without reaching a terminal state gets its loop started again.
/// </summary>
internal sealed partial class JobWatchdog(IGrainFactory grains, IHostApplicationLifetime lifetime, IOptions<TrainingClusterOptions> options, ILogger<JobWatchdog> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!await SiloStarted(stoppingToken)) return;
        using var timer = new PeriodicTimer(options.Value.JobWatchdogPeriod);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                foreach (string jobId in await grains.GetGrain<IJobRegistryGrain>(JobRegistryKeys.Default).GetActive())
                {
                    if (await grains.GetGrain<ITrainingJobGrain>(jobId).EnsureRunning())
                        LogRestarted(logger, jobId);
                }
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                LogTouchFailed(logger, e); // a silo may be leaving right now: the next tick tries again
            }
        }
    }

    private async Task<bool> SiloStarted(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var onStarted = lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        using var onStopping = stoppingToken.Register(() => started.TrySetCanceled(stoppingToken));
        try
        {
            await started.Task;
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [LoggerMessage(2, LogLevel.Warning, "Job watchdog: the driver loop of job {JobId} had stopped; started it again")]
    private static partial void LogRestarted(ILogger logger, string jobId);

    [LoggerMessage(1, LogLevel.Debug, "Job watchdog could not reach every active job")]
    private static partial void LogTouchFailed(ILogger logger, Exception exception);
}
