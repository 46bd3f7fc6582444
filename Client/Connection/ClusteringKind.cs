namespace Cluster.Client.Connection;

/// <summary>How the console finds the cluster's gateways (the silos' clustering provider).</summary>
public enum ClusteringKind
{
    /// <summary>Gateways on this machine (or the ones given with --gateway): the silo's default.</summary>
    Localhost,

    /// <summary>The Azure Table storage membership table the silos share.</summary>
    AzureTable,

    /// <summary>The Redis membership table the silos share.</summary>
    Redis,
}
