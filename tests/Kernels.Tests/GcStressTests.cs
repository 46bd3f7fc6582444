namespace Cluster.Kernels.Tests;

/// <summary>
/// The bit-identity claims hold while the garbage collector and the finalizer run without pause: no native argument
/// (scalar or tensor) of the training path can be freed while libtorch uses it. A freed scalar shows up either as
/// libtorch's "Expected false to be true … Scalar.h" exception or as a wrong value, so both failures are asserted.
/// Fewer steps than the unstressed tests (collections slow compute several times on 2 cores); the whole suite runs
/// under stress with <c>CLUSTER_GC_STRESS=1</c> (<see cref="GcStressMode"/>).
/// </summary>
public sealed class GcStressTests
{
    [Fact]
    public void Every_partition_stays_bit_identical_under_gc_stress()
    {
        using var stress = GcStress.Start();
        PartitionEquivalenceTests.AssertEveryPartitionMatchesTheReference(steps: 6);
        Assert.True(stress.Collections > 0, "the stress thread never completed a collection");
    }

    [Fact]
    public void Every_exact_replica_count_stays_bit_identical_under_gc_stress()
    {
        using var stress = GcStress.Start();
        DataParallelEquivalenceTests.AssertEveryReplicaCountMatchesTheReference(steps: 3);
        Assert.True(stress.Collections > 0, "the stress thread never completed a collection");
    }

    [Fact]
    public void The_whole_suite_stress_mode_is_running_when_asked_for()
    {
        bool asked = Environment.GetEnvironmentVariable("CLUSTER_GC_STRESS") is "1" or "true";
        Assert.Equal(asked, GcStressMode.Running is not null);
        if (asked)
            Assert.True(SpinWait.SpinUntil(() => GcStressMode.Running!.Collections > 0, TimeSpan.FromSeconds(60)),
                "CLUSTER_GC_STRESS is set but the stress thread completed no collection in 60 s");
    }
}
