namespace Cluster.Grains.Scheduling;

/// <summary>
/// A node the policy may use: its speed, the memory it has free, and how busy it already is. A node that does not
/// <paramref name="AcceptsNewStages"/> (cordoned) keeps the stages it is preferred for but takes no new ones.
/// <paramref name="DeviceKind"/> is "cpu", "cuda", … (<see cref="DeviceKinds"/>).
/// </summary>
public sealed record PlacementCandidate(string NodeId, string SiloName, double Gigaflops, long FreeMemoryBytes, int StagesAlreadyHosted, bool AcceptsNewStages = true,
    string DeviceKind = "");
