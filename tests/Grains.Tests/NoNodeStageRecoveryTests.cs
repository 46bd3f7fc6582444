using Xunit.Abstractions;

namespace Cluster.Grains.Tests;

/// <summary>
/// A stage with no node to run on — its silo lost, or its move off a leaving silo failed, its copies then waiting in
/// the parcel it left there for its first holder to take over — makes the recovery ask every copy again, patiently,
/// before it falls back to stored state, even when no copy timed out or was unreachable (<c>KillDuringLeaveProcessTests</c>,
/// seed 230: the holder answered "none" and the stage "no node to run on"; the job restored the durable checkpoint).
/// Here the holder's two quick tries fail with an error that says nothing of a later answer, and its third is answered.
/// Its own cluster: the case kills a silo.
/// </summary>
public sealed class NoNodeStageRecoveryTests(FilteredClusterFixture<DroppedCalls> fixture, ITestOutputHelper output) : IClassFixture<FilteredClusterFixture<DroppedCalls>>
{
    [Fact]
    public Task A_stage_with_no_node_to_run_on_makes_the_recovery_ask_its_holder_again_and_the_loss_costs_no_completed_step() =>
        UnreachableCopyRecoveryTests.LoseTheStageWhileTheHolderFails(fixture, output, "no-node-stage", 2,
            what => new InvalidOperationException($"injected: {what}"));
}
