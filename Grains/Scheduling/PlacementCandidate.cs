namespace Cluster.Grains.Scheduling;

/// <summary>A node the policy may use: its speed, the memory it has free, and how busy it already is.</summary>
public sealed record PlacementCandidate(string NodeId, string SiloName, double Gigaflops, long FreeMemoryBytes, int StagesAlreadyHosted);
