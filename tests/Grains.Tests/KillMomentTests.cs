using Xunit.Abstractions;
using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Scheduling;
using Cluster.Grains.Interfaces.Stages;

namespace Cluster.Grains.Tests;

/// <summary>
/// "A single failure costs no completed step", at chosen moments of a step. A job runs on 3 silos (the primary keeps
/// the job, the scheduler and the job's history): a pipeline of 3 stages, or 2 data-parallel replicas × 2 stages. At
/// each moment below a call of step N is held back and a silo is lost — a stage's, rank 0's (the only rank that
/// snapshots), rank 1's, or the holder's of a snapshot copy or a checkpoint shard — and replaced by a fresh silo;
/// each moment also after an operator's drain first moved the stage (of the moment's replica). The job must recover without
/// recomputing a counted step, from memory, and its losses must stay the reference trainer's bit for bit.
/// </summary>
public sealed class KillMomentTests(CallMomentClusterFixture fixture, ITestOutputHelper output) : IClassFixture<CallMomentClusterFixture>
{
    /// <summary>The durable checkpoint interval of the cases whose moment is at a checkpoint.</summary>
    private const int CheckpointInterval = 5;

    private static readonly CallMoment[] PipelineMoments =
    [
        new("s1's forward", "RunMicroBatch", Replica: 0, Stage: 1),
        new("the last stage's forward and backward", "RunMicroBatch", Replica: 0, Stage: 2),
        new("s0's gradient norms", "GradientSquares", Replica: 0, Stage: 0),
        new("s1's update", "ApplyUpdate", Replica: 0, Stage: 1),
        new("s2's snapshot on its way, its silo lost", "Accept", Replica: 0, Stage: 2, Holder: true, LoseStageHost: true),
        new("s0's snapshot on its way, the holder's silo lost", "Accept", Replica: 0, Stage: 0, Holder: true),
        new("s1's checkpoint shard on its way, its silo lost", "Accept", Replica: 0, Stage: 1, Holder: true, LoseStageHost: true, Checkpoint: true),
        new("s2's checkpoint shard on its way, the holder's silo lost", "Accept", Replica: 0, Stage: 2, Holder: true, Checkpoint: true),
        new("s0's forward right after a checkpoint", "RunMicroBatch", Replica: 0, Stage: 0, Checkpoint: true),
    ];

    private static readonly CallMoment[] DataParallelMoments =
    [
        new("rank 0's forward", "RunMicroBatch", Replica: 0, Stage: 0),
        new("rank 0's all-reduce", nameof(IPipelineStageGrain.GetGradientRange), Replica: 0, Stage: 1),
        new("rank 0's update", "ApplyUpdate", Replica: 0, Stage: 0),
        new("rank 0's snapshot on its way, rank 0's silo lost", "Accept", Replica: 0, Stage: 1, Holder: true, LoseStageHost: true),
        new("rank 0's snapshot on its way, the holder's silo lost", "Accept", Replica: 0, Stage: 0, Holder: true),
        new("rank 1's all-reduce", nameof(IPipelineStageGrain.GetGradientRange), Replica: 1, Stage: 0),
        new("rank 1's update", "ApplyUpdate", Replica: 1, Stage: 1),
    ];

    /// <summary>Every pipeline moment twice: on the job's first placement, and after an operator's drain moved the moment's stage.</summary>
    public static TheoryData<string, bool> PipelineMomentCases() => Twice(PipelineMoments);

    /// <summary>Every data-parallel moment twice: on the job's first placement, and after a drain moved the moment's replica's stage.</summary>
    public static TheoryData<string, bool> DataParallelMomentCases() => Twice(DataParallelMoments);

    private static TheoryData<string, bool> Twice(CallMoment[] moments)
    {
        var cases = new TheoryData<string, bool>();
        foreach (var moment in moments)
        {
            cases.Add(moment.Name, false);
            cases.Add(moment.Name, true);
        }
        return cases;
    }

    [Fact]
    public async Task A_stage_starts_its_all_reduce_after_its_last_backward_pass_without_waiting_for_the_job()
    {
        // The job's call for rank 0's stage s1's gradient norms is held back. Rank 1's stage s1 needs rank 0's chunk of
        // the gradients for its own all-reduce, so its norms can come back only if rank 0's s1 reduced without being asked.
        var spec = TinyJob.Spec("dp-eager-reduce", stages: 2, steps: 5000, checkpointInterval: 5000) with { MinReplicas = 2, MaxReplicas = 2, SnapshotInterval = 1 };
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        await SnapshotRedundancyCluster.OpenOnly(fixture, [.. fixture.Cluster.Silos.Skip(1).Select(s => s.Name)]);
        await job.Submit(spec);
        var running = await Eventually.Value(job.GetStatus, s => (s.Replicas == 2 && s.State == JobState.Running && s.CompletedSteps >= 2) || JobRuns.IsFinished(s),
            JobRuns.Deadline, "2 replicas to run 2 steps");
        long step = running.CompletedSteps + 1;
        fixture.Trap.Arm(new CallMoment("the job asking rank 0's s1 for its gradient norms", "GradientSquares", Replica: 0, Stage: 1), spec.JobId, step);
        try
        {
            await fixture.Trap.Reached.WaitAsync(TimeSpan.FromMinutes(2));
            string peer = $"{StageKeys.Stage(spec.JobId, 1, 1)}.{nameof(IPipelineStageGrain.GradientSquares)}";
            await Eventually.True(() => Task.FromResult(fixture.Trap.Completed.Contains(peer)), TimeSpan.FromSeconds(60),
                $"rank 1's s1 to finish its all-reduce of step {step} while rank 0's s1 was not asked (done: {string.Join(", ", fixture.Trap.Completed)})");
        }
        finally
        {
            fixture.Trap.LetRun();
        }
        await SnapshotRedundancyCluster.StepsPast(job, step, 2, "the job to run on");
        await SnapshotRedundancyCluster.Reliably(job.Cancel, "the job to cancel");
        var history = await JobHistory.All(fixture, spec.JobId);
        Assert.DoesNotContain(history, e => e.Kind is ClusterEventKind.JobRecovering or ClusterEventKind.JobRestored);
        await JobRuns.AssertReferencePrefix(job, spec);
    }

    [Theory]
    [MemberData(nameof(PipelineMomentCases))]
    public Task Losing_a_silo_at_this_moment_of_a_pipeline_step_costs_no_completed_step(string name, bool afterAMove)
    {
        var moment = PipelineMoments.Single(m => m.Name == name);
        var spec = TinyJob.Spec($"pipe-moment-{Array.IndexOf(PipelineMoments, moment)}{(afterAMove ? "-moved" : "")}", stages: 3, steps: 5000,
            checkpointInterval: moment.Checkpoint ? CheckpointInterval : 5000) with { SnapshotInterval = 1 };
        return LoseASiloAt(moment, spec, replicas: 1, moveFirst: afterAMove);
    }

    [Theory]
    [MemberData(nameof(DataParallelMomentCases))]
    public Task Losing_a_silo_at_this_moment_of_a_data_parallel_step_costs_no_completed_step(string name, bool afterAMove)
    {
        var moment = DataParallelMoments.Single(m => m.Name == name);
        var spec = TinyJob.Spec($"dp-moment-{Array.IndexOf(DataParallelMoments, moment)}{(afterAMove ? "-moved" : "")}", stages: 2, steps: 5000, checkpointInterval: 5000)
            with { MinReplicas = 1, MaxReplicas = 2, SnapshotInterval = 1 };
        return LoseASiloAt(moment, spec, replicas: 2, moveFirst: afterAMove);
    }

    private Task LoseASiloAt(CallMoment moment, JobSpec spec, int replicas, bool moveFirst = false) =>
        KillMoments.LoseASiloAt(fixture, output, moment, spec, replicas, moveFirst, CheckpointInterval);
}
