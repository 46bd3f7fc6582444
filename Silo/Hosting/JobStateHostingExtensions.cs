using Cluster.Grains.Hosting;
using Cluster.Silo.Configuration;
using Microsoft.Extensions.Options;
using Orleans.Hosting;
using Orleans.Persistence;
using Orleans.Serialization;
using Orleans.Storage;
using StackExchange.Redis;

namespace Cluster.Silo.Hosting;

/// <summary>
/// Job state on Redis when Redis is the membership store (and checkpoints are not on Azure Blob, whose fleet mode keeps
/// job state in blobs): a fleet with Redis membership and S3 checkpoints then needs no shared file system and no Azure.
/// </summary>
internal static class JobStateHostingExtensions
{
    /// <summary>Whether job state goes to Redis with these settings.</summary>
    public static bool JobStateOnRedis(SiloSettings settings) =>
        settings.Host.Membership.NormalizedProvider == MembershipOptions.Redis && settings.Training.CheckpointStore != "azureblob";

    /// <summary>Call after <c>AddTrainingCluster</c>: the later registration of a storage name is the one grains get.</summary>
    public static ISiloBuilder UseConfiguredJobState(this ISiloBuilder silo, SiloSettings settings)
    {
        if (!JobStateOnRedis(settings)) return silo;
        string connection = settings.Host.Membership.ConnectionString!;
        foreach (string name in new[] { StorageNames.Jobs, StorageNames.PubSub })
        {
            silo.Services.AddRedisGrainStorage(name, (OptionsBuilder<RedisStorageOptions> options) => options.Configure<Serializer>((redis, serializer) =>
            {
                redis.ConfigurationOptions = ConfigurationOptions.Parse(connection);
                // The Orleans serializer, as for the other stores: the default JSON one drops values equal to the CLR default.
                redis.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer);
            }));
        }
        return silo;
    }
}
