namespace Cluster.Grains.Interfaces.Jobs;

/// <summary>
/// A page of a job's loss history: <see cref="Losses"/>[i] is the loss of step <see cref="FromStep"/> + i;
/// <see cref="TotalSteps"/> is how many losses the job's current trajectory has in all.
/// </summary>
[GenerateSerializer, Immutable, Alias("cluster.LossPage")]
public sealed record LossPage(
    [property: Id(0)] long FromStep,
    [property: Id(1)] IReadOnlyList<double> Losses,
    [property: Id(2)] long TotalSteps);
