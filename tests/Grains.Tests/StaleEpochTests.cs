using Cluster.Grains.Checkpoints;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Scheduling;
using Cluster.Grains.Interfaces.Stages;
using Cluster.Grains.Placement;

namespace Cluster.Grains.Tests;

/// <summary>
/// Drives a pipeline-stage grain by hand, as its job would: every call carries an epoch, and only the epoch the stage
/// was last configured for is served. The cluster's checkpoint store can be made to hang, to hold a Configure in its restore.
/// </summary>
public sealed class StaleEpochTests(FaultInjectionClusterFixture fixture) : IClassFixture<FaultInjectionClusterFixture>
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(60);

    private async Task<string> AnyNode()
    {
        var nodes = await fixture.Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default).GetNodes();
        Assert.NotEmpty(nodes);
        return nodes[0].Capabilities.NodeId;
    }

    /// <summary>A single-stage plan of the tiny model (embedding + 4 blocks + head = 6 units) on <paramref name="nodeId"/>.</summary>
    private static StageAssignment SingleStage(string jobId, string nodeId, long epoch) => new()
    {
        Job = TinyJob.Spec(jobId, stages: 1, steps: 10, checkpointInterval: 0),
        Replica = 0,
        Stage = 0,
        Epoch = epoch,
        NodeId = nodeId,
        UnitsPerStage = [6],
    };

    /// <summary>Configures as the job does: the node travels in the request context of the (possibly activating) call.</summary>
    private static async Task Configure(IPipelineStageGrain stage, StageAssignment assignment)
    {
        Task call;
        RequestContext.Set(PlacementContextKeys.Node, assignment.NodeId);
        try
        {
            call = stage.Configure(assignment);
        }
        finally
        {
            RequestContext.Remove(PlacementContextKeys.Node);
        }
        await call.WaitAsync(CallTimeout);
    }

    private static async Task<StaleEpochException> AssertStale(Func<Task> call, long callEpoch, long currentEpoch)
    {
        var error = await Assert.ThrowsAsync<StaleEpochException>(() => call().WaitAsync(CallTimeout));
        Assert.Equal(callEpoch, error.CallEpoch);
        Assert.Equal(currentEpoch, error.CurrentEpoch);
        Assert.Contains($"epoch {callEpoch}", error.Message, StringComparison.Ordinal);
        Assert.Contains($"epoch {currentEpoch}", error.Message, StringComparison.Ordinal);
        return error;
    }

    [Fact]
    public async Task A_stage_serves_only_the_epoch_it_was_configured_for()
    {
        const string jobId = "stale-epoch";
        string nodeId = await AnyNode();
        var stage = fixture.Client.GetGrain<IPipelineStageGrain>(StageKeys.Stage(jobId, 0, 0));
        await Configure(stage, SingleStage(jobId, nodeId, epoch: 5));

        // Older epochs are fenced out, for training calls and for configuration alike.
        var old = await AssertStale(() => stage.RunMicroBatch(4, 0, 0, null), callEpoch: 4, currentEpoch: 5);
        Assert.Contains(StageKeys.Stage(jobId, 0, 0), old.Message, StringComparison.Ordinal);
        await AssertStale(() => Configure(stage, SingleStage(jobId, nodeId, epoch: 3)), callEpoch: 3, currentEpoch: 5);

        // A newer epoch is no better without a re-configuration: the stage does not serve it yet.
        await AssertStale(() => stage.RunMicroBatch(6, 0, 0, null), callEpoch: 6, currentEpoch: 5);
        await AssertStale(() => stage.GradientSquares(6, 0), callEpoch: 6, currentEpoch: 5);

        // The current epoch works: a single stage samples, runs forward and backward, and returns the loss.
        var result = await stage.RunMicroBatch(5, 0, 0, null).WaitAsync(CallTimeout);
        Assert.True(double.IsFinite(result.Loss) && result.Loss > 0, $"loss {result.Loss:R}");
        Assert.Null(result.InputGradient); // the first stage has no input to differentiate
        var squares = await stage.GradientSquares(5, 0).WaitAsync(CallTimeout);
        Assert.NotEmpty(squares);
        Assert.All(squares, s => Assert.True(double.IsFinite(s) && s >= 0, $"squared norm {s:R}"));
        await stage.ApplyUpdate(5, 0, 1.0).WaitAsync(CallTimeout);

        // Step 0 is done: a call for it again is out of order, even at the right epoch.
        var replay = await Assert.ThrowsAnyAsync<Exception>(() => stage.RunMicroBatch(5, 0, 0, null).WaitAsync(CallTimeout));
        Assert.IsNotType<StaleEpochException>(replay);
        Assert.Contains("out of order", replay.Message, StringComparison.Ordinal);

        // Re-configuring at a higher epoch rebuilds the stage from its initial weights; the old epoch is now stale.
        await Configure(stage, SingleStage(jobId, nodeId, epoch: 7));
        await AssertStale(() => stage.RunMicroBatch(5, 0, 0, null), callEpoch: 5, currentEpoch: 7);
        await AssertStale(() => stage.ApplyUpdate(5, 0, 1.0), callEpoch: 5, currentEpoch: 7);
        var again = await stage.RunMicroBatch(7, 0, 0, null).WaitAsync(CallTimeout);
        Assert.True(BitConverter.DoubleToInt64Bits(result.Loss) == BitConverter.DoubleToInt64Bits(again.Loss),
            $"step 0 micro-batch 0 after re-configuration: {again.Loss:R}, first time {result.Loss:R}");

        // Releasing with a stale epoch is refused too; the current one releases.
        await AssertStale(() => stage.Release(6), callEpoch: 6, currentEpoch: 7);
        await stage.Release(7).WaitAsync(CallTimeout);
    }

    [Fact]
    public async Task A_stage_cannot_be_activated_without_a_node_in_the_request_context()
    {
        Assert.Null(RequestContext.Get(PlacementContextKeys.Node));
        var stage = fixture.Client.GetGrain<IPipelineStageGrain>(StageKeys.Stage("never-configured", 0, 0));
        var error = await Assert.ThrowsAsync<NodeUnavailableException>(() => stage.RunMicroBatch(1, 0, 0, null).WaitAsync(CallTimeout));
        Assert.Contains("has no node to run on", error.Message, StringComparison.Ordinal);
        Assert.Contains("never-configured/r0/s0", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_call_that_reaches_a_stage_while_it_is_being_released_leaves_no_empty_activation_behind()
    {
        const string jobId = "stale-late-call";
        string nodeId = await AnyNode();
        var stage = fixture.Client.GetGrain<IPipelineStageGrain>(StageKeys.Stage(jobId, 0, 0));
        await Configure(stage, SingleStage(jobId, nodeId, epoch: 1));
        await stage.Release(1).WaitAsync(CallTimeout);

        // A late message of the released epoch, sent while the activation deactivates: it must be rejected …
        await Assert.ThrowsAnyAsync<Exception>(() => stage.RunMicroBatch(1, 0, 0, null).WaitAsync(CallTimeout));
        // … and must not revive the stage: an activation without a node and epoch would linger until idle collection.
        await Eventually.True(() => Task.FromResult(!fixture.Cluster.TryGetGrainContext(stage.GetGrainId(), out _)),
            TimeSpan.FromSeconds(30), "no activation of the released stage");
    }

    /// <summary>
    /// Two Configure calls overlap — one still restoring (its caller, the job, timed out and placed again) and the next
    /// epoch's — and the newer wins although the older finishes last: the older call fails as stale and frees what it
    /// built, and the stage serves the newer epoch. Before, the older one's executor replaced the newer one's and the
    /// stage went back to the older epoch, failing every call of the job's current attempt.
    /// </summary>
    [Fact]
    public async Task A_configure_that_finishes_after_a_newer_one_fails_as_stale_and_the_newer_epoch_is_served()
    {
        var sourceSpec = TinyJob.Spec("configure-overlap-source", stages: 1, steps: 4, checkpointInterval: 2);
        var source = fixture.Client.GetGrain<ITrainingJobGrain>(sourceSpec.JobId);
        await source.Submit(sourceSpec);
        Assert.Equal(JobState.Completed, (await JobRuns.Finished(source)).State);
        var manifest = (await source.ListCheckpoints())[^1];

        const string jobId = "configure-overlap";
        string nodeId = await AnyNode();
        var stage = fixture.Client.GetGrain<IPipelineStageGrain>(StageKeys.Stage(jobId, 0, 0));
        StorageFaults.Checkpoints.Inject(sourceSpec.JobId, nameof(ICheckpointStore.ReadShardAsync), FaultMode.Hang);
        Task older;
        try
        {
            older = Configure(stage, SingleStage(jobId, nodeId, epoch: 7) with { RestoreFrom = manifest });
            await Eventually.True(() => Task.FromResult(StorageFaults.Checkpoints.Hits(sourceSpec.JobId, nameof(ICheckpointStore.ReadShardAsync)) > 0),
                CallTimeout, "the epoch-7 Configure to be reading its checkpoint");
            await Configure(stage, SingleStage(jobId, nodeId, epoch: 8));
        }
        finally
        {
            StorageFaults.Checkpoints.Heal(sourceSpec.JobId);
        }

        await AssertStale(() => older, callEpoch: 7, currentEpoch: 8);
        var result = await stage.RunMicroBatch(8, 0, 0, null).WaitAsync(CallTimeout);
        Assert.True(double.IsFinite(result.Loss) && result.Loss > 0, $"loss {result.Loss:R}");
        await AssertStale(() => stage.RunMicroBatch(7, 0, 0, null), callEpoch: 7, currentEpoch: 8);
        await AssertStale(() => Configure(stage, SingleStage(jobId, nodeId, epoch: 7)), callEpoch: 7, currentEpoch: 8);
        await stage.Release(8).WaitAsync(CallTimeout);
    }
}
