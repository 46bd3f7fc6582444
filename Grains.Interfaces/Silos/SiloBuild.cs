namespace Cluster.Grains.Interfaces.Silos;

/// <summary>
/// A silo's build: the cluster code's version and the source commit it was built from (null when the build had no git
/// information), the .NET runtime, and when the silo process started.
/// </summary>
[GenerateSerializer, Immutable, Alias("cluster.SiloBuild")]
public sealed record SiloBuild(
    [property: Id(0)] string SiloName,
    [property: Id(1)] string Version,
    [property: Id(2)] string? Commit,
    [property: Id(3)] string Framework,
    [property: Id(4)] DateTimeOffset ProcessStartedAt);
