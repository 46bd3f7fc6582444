using Cluster.Grains.Checkpoints;
using Cluster.Silo.Configuration;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Cluster.Silo.Health;

/// <summary>
/// Healthy when the checkpoint store answers a listing (of a job id no job uses) within
/// <see cref="ObservabilityOptions.HealthCheckTimeout"/>: a silo that cannot reach its store cannot commit or restore.
/// </summary>
internal sealed class CheckpointStoreHealthCheck(ICheckpointStore store, IOptions<ObservabilityOptions> options) : IHealthCheck
{
    /// <summary>A job id that no job has (ids this long with this prefix are not generated): its listing is empty and cheap.</summary>
    internal const string ProbeJobId = "health-probe-no-such-job";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var timeout = options.Value.HealthCheckTimeout;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await store.ListManifestsAsync(ProbeJobId, deadline.Token).WaitAsync(deadline.Token).ConfigureAwait(false);
            return HealthCheckResult.Healthy($"checkpoint store reachable: {store.Description}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"checkpoint store did not answer within {timeout.TotalSeconds:F0} s: {store.Description}");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy($"checkpoint store unreachable: {store.Description}: {e.GetType().Name}: {e.Message}", e);
        }
    }
}
