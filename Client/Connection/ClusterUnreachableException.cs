namespace Cluster.Client.Connection;

/// <summary>No gateway answered: says what was tried and how to fix it (exit code 3).</summary>
public sealed class ClusterUnreachableException(ClientConnectionOptions options, string reason, Exception? inner = null)
    : Exception(Compose(options, reason), inner)
{
    private static string Compose(ClientConnectionOptions options, string reason) =>
        $"Cannot reach the cluster: tried {options.Describe()} for {options.ConnectTimeout.TotalSeconds:0.#} s; {reason}.{Environment.NewLine}" +
        (options.Clustering == ClusteringKind.Localhost
            ? "Fix: start a silo (dotnet run -c Release --project Silo -- --TrainingCluster:DeviceSlots=2), or point the console at a running one with --gateway host:port (its Orleans:GatewayPort); a silo that runs there but refuses the connection has another cluster id: give it with --cluster-id."
            : $"Fix: check that the silos run and that the console uses their {ClientConnectionOptions.Section}:ClusterId and {ClientConnectionOptions.Section}:Membership settings.");
}
