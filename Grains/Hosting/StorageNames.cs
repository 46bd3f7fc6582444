namespace Cluster.Grains.Hosting;

/// <summary>Names of the grain storage providers the cluster registers.</summary>
public static class StorageNames
{
    /// <summary>Job state: must outlive any silo (file system in the embedded default, Azure Blob in fleet mode).</summary>
    public const string Jobs = "jobs";

    /// <summary>Pub-sub state of the progress and event streams (who subscribed): durable, so a lost silo loses no subscriber.</summary>
    public const string PubSub = "PubSubStore";
}
