namespace Cluster.Grains.Jobs;

[GenerateSerializer, Alias("cluster.JobRegistryState")]
public sealed class JobRegistryState
{
    [Id(0)] public List<string> Active { get; set; } = [];
    [Id(1)] public List<string> All { get; set; } = [];
}
