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
/// membership says it is shutting down: never back here. That activation is started by the next call to the job from
/// another silo (a job watchdog's, within <see cref="TrainingClusterOptions.JobWatchdogPeriod"/>). Waking it from this
/// silo once its grains are deactivated was tried (2026-12-06): it took over within 0.1 s, but its first calls reached
/// the scheduler's old activation on this stopping silo and were rejected for ≈ 1.2 s — longer than
/// <see cref="StoppingSiloRetry"/> retries — so the wake was left out.
/// </summary>
internal sealed partial class CoordinatorHandOverOnShutdown(
    LocalCoordinators coordinators, IGrainFactory grains, ILocalSiloDetails localSilo, IOptions<TrainingClusterOptions> options, TimeProvider time,
    ILogger<CoordinatorHandOverOnShutdown> logger)
    : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(CoordinatorHandOverOnShutdown), ServiceLifecycleStage.BecomeActive, _ => Task.CompletedTask, StopAsync);

    internal async Task StopAsync(CancellationToken stopping)
    {
        var jobs = coordinators.Keys;
        // A forced stop (its token cancelled from the start: a test's in-process kill, a host out of time) asks nothing:
        // a hand-over it could not wait for would only race the loss the stop is.
        if (jobs.Count == 0 || stopping.IsCancellationRequested) return;
        string address = localSilo.SiloAddress.ToParsableString();
        var started = time.GetUtcNow();
        var handedOver = await Task.WhenAll(jobs.Select(jobId => HandOver(jobId, address, stopping)));
        LogHandedOver(logger, handedOver.Count(h => h), jobs.Count, (time.GetUtcNow() - started).TotalSeconds);
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
}
