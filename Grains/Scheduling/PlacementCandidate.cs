namespace Cluster.Grains.Scheduling;

/// <summary>
/// A node the policy may use: its speed, the memory it has free, and how busy it already is. A node that does not
/// <see cref="AcceptsNewStages"/> (cordoned) keeps the stages preferred there but is given no others.
/// </summary>
public sealed record PlacementCandidate(string NodeId, string SiloName, double Gigaflops, long FreeMemoryBytes, int StagesAlreadyHosted, bool AcceptsNewStages = true);
