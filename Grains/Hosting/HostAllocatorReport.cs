using Cluster.Kernels.Compute;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Cluster.Grains.Hosting;

/// <summary>
/// Sets up the process's host allocator when the silo starts (<see cref="HostAllocator.Tune"/>: once per process, the
/// device workers' first device choice does the same) and logs what it did, so an operator reads in every silo's log
/// whether freed host memory stays with the process and why. A value of <c>CLUSTER_HOST_ALLOCATOR</c> it does not know
/// stops the silo at start with the error that names both accepted values.
/// </summary>
internal sealed partial class HostAllocatorReport(ILogger<HostAllocatorReport> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var outcome = HostAllocator.Tune();
        if (outcome.Choice == HostAllocatorChoice.PartlyTuned) LogPartlyTuned(logger, outcome.Detail);
        else LogOutcome(logger, outcome.Choice, outcome.Detail);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(1, LogLevel.Information, "Host allocator: {Choice} ({Detail})")]
    private static partial void LogOutcome(ILogger logger, HostAllocatorChoice choice, string detail);

    [LoggerMessage(2, LogLevel.Warning, "Host allocator only partly set up: {Detail}. Set CLUSTER_HOST_ALLOCATOR=default to keep the C library's own thresholds, or configure them with GLIBC_TUNABLES")]
    private static partial void LogPartlyTuned(ILogger logger, string detail);
}
