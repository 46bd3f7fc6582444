using Microsoft.Extensions.Hosting;

namespace Cluster.Grains.Hosting;

/// <summary>Hosted services start before the silo has joined the cluster; grain calls must wait until the host is fully started.</summary>
internal static class HostStarted
{
    /// <summary>True once the host has started; false when <paramref name="stoppingToken"/> fires first.</summary>
    public static async Task<bool> WaitAsync(IHostApplicationLifetime lifetime, CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        using (stoppingToken.Register(() => started.TrySetCanceled(stoppingToken)))
        {
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
    }
}
