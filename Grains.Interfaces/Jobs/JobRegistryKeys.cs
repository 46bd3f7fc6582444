namespace Cluster.Grains.Interfaces.Jobs;

public static class JobRegistryKeys
{
    public const string Default = "default";
}
