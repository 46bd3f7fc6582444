using Cluster.Grains.Checkpoints;
using Cluster.Grains.Interfaces.Stages;
using Cluster.Grains.Jobs;
using CsCheck;

namespace Cluster.Grains.Tests;

/// <summary>Snapshot holder keys and the <c>SnapshotReplicas</c> bounds (pure: no cluster).</summary>
public sealed class SnapshotHoldersTests
{
    [Fact]
    public void Holder_keys_round_trip_and_holder_zero_is_the_checkpoint_shard()
    {
        Gen.Select(Gen.Char["abcXYZ019_.-"].Array[1, 64].Select(chars => new string(chars)), Gen.Int[0, 255], Gen.Int[0, JobSpecs.MaxSnapshotReplicas - 2])
            .Sample(t =>
            {
                var (job, stage, index) = t;
                string key = SnapshotHolders.Key(job, stage, index);
                Assert.Equal((job, stage, index), SnapshotHolders.Parse(key));
                if (index == 0) Assert.Equal(StageKeys.Shard(job, stage), key);
            });
    }

    [Fact]
    public void A_stages_heir_is_holder_zero_of_its_stage_whatever_its_replica()
    {
        Gen.Select(Gen.Char["abcXYZ019_.-"].Array[1, 64].Select(chars => new string(chars)), Gen.Int[0, 63], Gen.Int[0, 255])
            .Sample(t =>
            {
                var (job, replica, stage) = t;
                Assert.Equal(StageKeys.Shard(job, stage), SnapshotHolders.FirstOfStage(StageKeys.Stage(job, replica, stage)));
            });
        foreach (string notAStage in new[] { "job", "job/s1", "job/s1/h1", "job/r/s1", "job/r0/x1", "job/r0/s1/h1" })
            Assert.Null(SnapshotHolders.FirstOfStage(notAStage));
    }

    [Theory]
    [InlineData("job")]
    [InlineData("job/r0/s1")]
    [InlineData("job/s")]
    [InlineData("job/s1/x2")]
    [InlineData("job/s-1")]
    public void A_key_that_is_not_a_holders_is_refused_with_its_expected_forms(string key)
    {
        var error = Assert.Throws<ArgumentException>(() => SnapshotHolders.Parse(key));
        Assert.Contains("'<job>/s<stage>'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, true)]
    [InlineData(4, true)]
    [InlineData(5, false)]
    public void SnapshotReplicas_is_between_2_and_the_limit(int replicas, bool valid)
    {
        var problems = JobSpecs.Validate(TinyJob.Spec("replicas", stages: 2) with { SnapshotReplicas = replicas });
        Assert.Equal(valid, !problems.Any(p => p.StartsWith("snapshotReplicas", StringComparison.Ordinal)));
    }

    [Fact]
    public void The_stage_counts_once_so_two_replicas_need_one_holder()
    {
        Assert.Equal(1, SnapshotHolders.For(2));
        Assert.Equal(3, SnapshotHolders.For(4));
    }
}
