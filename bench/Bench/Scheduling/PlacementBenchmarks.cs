using BenchmarkDotNet.Attributes;
using Cluster.Grains.Interfaces.Scheduling;
using Cluster.Grains.Scheduling;

namespace Cluster.Bench.Scheduling;

/// <summary>
/// One scheduling decision of <see cref="PlacementPolicy"/> at fleet size: a job's stages placed on an idle fleet,
/// and re-placed after 1, 8 or 64 of their nodes failed (the survivors keep their stages through the preferred list,
/// exactly as the scheduler grain asks after a failure).
/// </summary>
[MemoryDiagnoser]
public class PlacementBenchmarks
{
    private SchedulerFleet _fleet = null!;
    private PlacementCandidate[] _shuffled = null!;
    private IReadOnlyList<string> _placement = null!;
    private PlacementCandidate[] _after1 = null!, _after8 = null!, _after64 = null!;

    [Params(16_384)]
    public int Nodes { get; set; }

    [Params(2_048)]
    public int Stages { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _fleet = SchedulerFleet.Create(Nodes, Stages);
        var random = new Random(3);
        _shuffled = [.. _fleet.Nodes.OrderBy(_ => random.Next())];
        var first = PlacementPolicy.Place(_fleet.Stages, _fleet.Nodes);
        if (!first.Placed) throw new InvalidOperationException($"The benchmark fleet does not fit its job: {first.Reason}");
        _placement = first.NodeByStage;
        _after1 = _fleet.WithoutFailedNodes(_placement, 1);
        _after8 = _fleet.WithoutFailedNodes(_placement, 8);
        _after64 = _fleet.WithoutFailedNodes(_placement, 64);
    }

    [Benchmark(Baseline = true, Description = "initial placement")]
    public PlacementDecision Initial() => PlacementPolicy.Place(_fleet.Stages, _fleet.Nodes);

    [Benchmark(Description = "initial placement, nodes unsorted")]
    public PlacementDecision InitialUnsorted() => PlacementPolicy.Place(_fleet.Stages, _shuffled);

    [Benchmark(Description = "re-place after 1 failure")]
    public PlacementDecision After1() => PlacementPolicy.Place(_fleet.Stages, _after1, _placement);

    [Benchmark(Description = "re-place after 8 failures")]
    public PlacementDecision After8() => PlacementPolicy.Place(_fleet.Stages, _after8, _placement);

    [Benchmark(Description = "re-place after 64 failures")]
    public PlacementDecision After64() => PlacementPolicy.Place(_fleet.Stages, _after64, _placement);
}
