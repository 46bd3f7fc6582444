namespace Cluster.Grains.Interfaces.Stages;

/// <summary>Keys of per-job grains: stages are (job, replica, stage), shards are (job, stage).</summary>
public static class StageKeys
{
    public static string Stage(string jobId, int replica, int stage) => $"{jobId}/r{replica}/s{stage}";

    public static string Shard(string jobId, int stage) => $"{jobId}/s{stage}";
}
