namespace Cluster.Client.Views;

/// <summary>One silo of the cluster's membership.</summary>
internal sealed record SiloView(string Name, string Address, string Status, int Nodes);
