using Cluster.Grains.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Cluster.Grains.Tests;

/// <summary>
/// 2 silos whose incoming calls pass <see cref="SchedulerCallFaultFilter"/>, so the scheduler's rebuild can be faulted;
/// the silent-job hold is set to <see cref="SilentJobHold"/> (not the default), so a test sees the option reach the scheduler.
/// </summary>
public sealed class SchedulerRebuildClusterFixture() : ClusterFixture(2)
{
    public static readonly TimeSpan SilentJobHold = TimeSpan.FromMinutes(7);

    protected override ISiloBuilder ConfigureSilo(ISiloBuilder silo)
    {
        silo.Services.PostConfigure<TrainingClusterOptions>(o => o.SchedulerSilentJobHold = SilentJobHold);
        return silo.AddIncomingGrainCallFilter<SchedulerCallFaultFilter>();
    }
}
