namespace Cluster.Grains.Interfaces.Scheduling;

public static class SchedulerKeys
{
    public const string Default = "default";
}
