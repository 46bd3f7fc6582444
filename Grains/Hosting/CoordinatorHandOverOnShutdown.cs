using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Jobs;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cluster.Grains.Hosting;

/// <summary>
/// A silo that shuts down gracefully asks every coordinator it runs to hand its job over (<see cref="ITrainingJobGrain.HandOverForShutdown"/>)
/// and waits — up to <see cref="TrainingClusterOptions.CoordinatorHandOverTimeout"/> each, all at once — before Orleans deactivates
/// its grains. It runs in the silo's <c>BecomeActive</c> stop stage: after the <c>Active</c> stage, where the host's
/// drain (<c>DrainOnShutdown</c>) moves the stages off this silo's nodes with the coordinator's help, and before the
/// <c>GrainDeactivation</c> stage. So a coordinator hands over while its activation still serves calls (a holder's
/// question to its job, the scheduler's), and the job's next activation can only be placed once this silo's
/// membership says it is shutting down: never back here. Once the silo's grains are deactivated (the
/// <c>ApplicationServices</c> stop stage, its grain directory handed over), it wakes each job it handed over with a call
/// that places the job's next activation on a silo that stays, so the job carries on at once rather than at the next
/// tick of a job watchdog (<see cref="TrainingClusterOptions.JobWatchdogPeriod"/>). That activation's first calls may
/// still reach the scheduler's old activation on this stopping silo and be rejected; they are sent again
/// (<see cref="StoppingSiloRetry"/>): without that, a first try of this wake made the job recover.
/// </summary>
internal sealed partial class CoordinatorHandOverOnShutdown(
    LocalCoordinators coordinators, IGrainFactory grains, ILocalSiloDetails localSilo, IOptions<TrainingClusterOptions> options, TimeProvider time,
    ILogger<CoordinatorHandOverOnShutdown> logger)
    : ILifecycleParticipant<ISiloLifecycle>
{
    /// <summary>How long the silo, its grains deactivated, waits for each handed-over job's next activation to answer.</summary>
    private static readonly TimeSpan WakeLimit = TimeSpan.FromSeconds(2);

    private string[] _handedOver = [];

    public void Participate(ISiloLifecycle lifecycle)
    {
        lifecycle.Subscribe(nameof(CoordinatorHandOverOnShutdown), ServiceLifecycleStage.BecomeActive, _ => Task.CompletedTask, StopAsync);
        lifecycle.Subscribe(nameof(CoordinatorHandOverOnShutdown), ServiceLifecycleStage.ApplicationServices, _ => Task.CompletedTask, WakeHandedOverJobs);
    }

    internal async Task StopAsync(CancellationToken stopping)
    {
        var jobs = coordinators.Jobs;
        // A forced stop (its token cancelled from the start: a test's in-process kill, a host out of time) asks nothing:
        // a hand-over it could not wait for would only race the loss the stop is.
        if (jobs.Count == 0 || stopping.IsCancellationRequested) return;
        string address = localSilo.SiloAddress.ToParsableString();
        var started = time.GetUtcNow();
        var handedOver = await Task.WhenAll(jobs.Select(async jobId => (JobId: jobId, Done: await HandOver(jobId, address, stopping))));
        _handedOver = [.. handedOver.Where(h => h.Done).Select(h => h.JobId)];
        LogHandedOver(logger, _handedOver.Length, jobs.Count, (time.GetUtcNow() - started).TotalSeconds);
    }

    /// <summary>Asks each job this silo handed over for its status, which starts its next activation elsewhere. Best effort: a job watchdog wakes it anyway.</summary>
    private async Task WakeHandedOverJobs(CancellationToken stopping)
    {
        foreach (string jobId in _handedOver)
        {
            try
            {
                await grains.GetGrain<ITrainingJobGrain>(jobId).GetStatus().WaitAsync(WakeLimit, time, stopping);
            }
            catch (Exception e)
            {
                LogWakeFailed(logger, jobId, e.Message);
            }
        }
    }

    private async Task<bool> HandOver(string jobId, string address, CancellationToken stopping)
    {
        var limit = options.Value.CoordinatorHandOverTimeout;
        try
        {
            return await grains.GetGrain<ITrainingJobGrain>(jobId).HandOverForShutdown(address).WaitAsync(limit, time, stopping);
        }
        catch (TimeoutException)
        {
            LogNotHandedOver(logger, jobId, $"no step boundary within {limit.TotalSeconds:F0} s");
        }
        catch (Exception e)
        {
            LogNotHandedOver(logger, jobId, e.Message);
        }
        return false;
    }

    [LoggerMessage(1, LogLevel.Information, "Shutting down: {HandedOver} of {Coordinators} job coordinator(s) on this silo handed their job over in {Seconds:F1} s")]
    private static partial void LogHandedOver(ILogger logger, int handedOver, int coordinators, double seconds);

    [LoggerMessage(3, LogLevel.Debug, "Shutting down: job {JobId}, handed over, was not woken on another silo ({Reason}); a job watchdog wakes it")]
    private static partial void LogWakeFailed(ILogger logger, string jobId, string reason);

    [LoggerMessage(2, LogLevel.Warning, "Shutting down: job {JobId}'s coordinator did not hand the job over ({Reason}); its next activation recovers it as after a loss")]
    private static partial void LogNotHandedOver(ILogger logger, string jobId, string reason);
}
