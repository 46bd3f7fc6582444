using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Cluster.Silo;

/// <summary>
/// Stops the silo when the process that started it is gone (<c>--Silo:ParentProcessId=&lt;pid&gt;</c>): a test host or
/// benchmark that dies without cleaning up must not leave silo processes behind on a shared machine.
/// </summary>
internal sealed partial class ParentProcessWatch(int parentId, IHostApplicationLifetime lifetime, ILogger<ParentProcessWatch> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            if (IsAlive(parentId)) continue;
            LogParentGone(logger, parentId);
            lifetime.StopApplication();
            // A silo that cannot leave its cluster in good order (the rest may be gone too) must still go.
            await Task.Delay(TimeSpan.FromSeconds(15), CancellationToken.None).ConfigureAwait(false);
            Environment.Exit(3);
        }
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    [LoggerMessage(1, LogLevel.Warning, "Process {ParentId} that started this silo is gone: stopping")]
    private static partial void LogParentGone(ILogger logger, int parentId);
}
