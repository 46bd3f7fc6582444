using Cluster.Grains.Compute;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Stages;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;
using Xunit.Abstractions;
using static Cluster.Grains.Tests.DeviceFaultRuns;
using static Cluster.Grains.Tests.JobRuns;

namespace Cluster.Grains.Tests;

/// <summary>
/// Device work of an abandoned epoch cannot be taken back: an operation queued on a device that hung runs whenever the
/// device comes back, possibly after the job moved its stage to another device of the same silo, where the same
/// activation goes on. Such work must not write what the new epoch reads — the parameters, optimizer moments and the
/// arrays a stage reuses from step to step (their owner, <c>StageExecutor</c>, is new with every configuration). Each
/// test hangs a data-parallel rank's device in one kind of work — its reduction sum, its update — lets the job move
/// the rank to the spare slot of the same silo and train on, then lets the late work run at a moment the new epoch's
/// step would read what it wrote, were it shared; the losses must stay the reference trainer's. The snapshot copy's
/// host buffers are covered in <c>Kernels</c> (<c>KeptSnapshotBuffersTests</c>). A late micro-batch is not here: under
/// the same mutation (one executor kept across configurations) it changed nothing this test could see.
/// </summary>
public sealed class StaleDeviceWorkTests(SpareSlotClusterFixture fixture, ITestOutputHelper output) : IClassFixture<SpareSlotClusterFixture>
{
    [Fact]
    public async Task A_reduction_sum_hung_on_a_device_the_stage_left_writes_nothing_the_new_epoch_reads()
    {
        // The rank's call for its peer's gradients is held while its device is hung, idle, so the sum that call's answer
        // starts is what hangs. The late sum runs once both ranks of a new-epoch step have summed their chunks and each
        // holds its reduced chunk for the other, and they read each other's after it.
        await HangMoveAndRelease("stale-device-sum", (moved, stays) => c => c.SourceId == moved && c.TargetId == stays && c.InterfaceMethod.Name == nameof(IPipelineStageGrain.GetGradientRange),
            async (moved, stays, runLate) =>
            {
                fixture.First.Arm(c => c.SourceId == stays && c.TargetId == moved && c.InterfaceMethod.Name == nameof(IPipelineStageGrain.GetReducedRange));
                fixture.Second.Arm(c => c.SourceId == moved && c.TargetId == stays && c.InterfaceMethod.Name == nameof(IPipelineStageGrain.GetReducedRange));
                await Task.WhenAll(fixture.First.Reached, fixture.Second.Reached).WaitAsync(Deadline);
                await runLate();
                fixture.Second.Release();
                fixture.First.Release();
            });
    }

    /// <summary>
    /// The job's update call to the rank is held while its device is hung, idle, so its update is what hangs. The late
    /// update runs while a new-epoch step of the moved rank has its gradients summed and its own update held: an update
    /// that reached the new epoch's parameters and moments would apply that step's gradients twice. Mutation-checked: with
    /// the stage's executor kept across configurations instead of made anew, the losses leave the reference's.
    /// </summary>
    [Fact]
    public async Task An_update_hung_on_a_device_the_stage_left_writes_nothing_the_new_epoch_reads()
    {
        await HangMoveAndRelease("stale-device-update", (moved, _) => c => c.TargetId == moved && c.InterfaceMethod.Name == nameof(IPipelineStageGrain.ApplyUpdate),
            async (moved, _, runLate) =>
            {
                fixture.First.Arm(c => c.TargetId == moved && c.InterfaceMethod.Name == nameof(IPipelineStageGrain.ApplyUpdate));
                await fixture.First.Reached.WaitAsync(Deadline);
                await runLate();
                fixture.First.Release();
            });
    }

    /// <summary>
    /// Trains a job of two 1-stage replicas, holds the call <paramref name="hold"/> picks (given the stage that hangs
    /// and the one that stays) while the first rank's device is hung, releases it so its work hangs, waits for the job to
    /// move that rank to the spare slot of the same silo and train 3 steps past, and hands <paramref name="late"/> a
    /// function that clears the hang and waits for the late work to run; then the job must finish with the reference
    /// losses.
    /// </summary>
    private async Task HangMoveAndRelease(string jobId, Func<GrainId, GrainId, Func<IGrainCallContext, bool>> hold,
        Func<GrainId, GrainId, Func<Task>, Task> late)
    {
        var spec = TinyJob.Spec(jobId, 1, steps: 30, checkpointInterval: 10) with { MinReplicas = 2, MaxReplicas = 2 };
        var (job, running) = await Trained(fixture, spec, 3);
        var hungOn = running.Placement.OrderBy(p => p.Replica).First(); // rank 0: the one that also snapshots
        var peer = running.Placement.Single(p => p.Replica != hungOn.Replica);
        var moved = fixture.Client.GetGrain<IPipelineStageGrain>(StageKeys.Stage(spec.JobId, hungOn.Replica, 0)).GetGrainId();
        var stays = fixture.Client.GetGrain<IPipelineStageGrain>(StageKeys.Stage(spec.JobId, peer.Replica, 0)).GetGrainId();
        var silo = fixture.Cluster.Silos.Single().ServiceProvider;
        var hang = silo.GetRequiredService<ComputeHang>();
        var device = silo.GetRequiredService<DeviceWorkerPool>().Workers.Single(w => w.NodeId == hungOn.NodeId);
        try
        {
            // 1. The call is held; the device is hung meanwhile, idle, so the next operation it runs — the one that call
            //    starts — hangs.
            fixture.First.Arm(hold(moved, stays));
            await fixture.First.Reached.WaitAsync(Deadline);
            var atHang = await job.GetStatus();
            hang.Set(hungOn.NodeId);
            fixture.First.Release();
            await Eventually.True(() => Task.FromResult(device.InFlightSince is not null), Deadline, $"the work to hang on {hungOn.NodeId}");
            long before = device.CompletedOperations;

            // 2. The node turns unhealthy; the job moves the replica to the spare slot of the same silo and trains on, past
            //    the hung step (so late work of it holds other values than any step the new epoch computes).
            var after = await Eventually.Value(job.GetStatus, s => s.Epoch > atHang.Epoch && s.CompletedSteps >= atHang.CompletedSteps + 3
                    && s.Placement.All(p => p.NodeId != hungOn.NodeId) || IsFinished(s),
                Deadline, $"the job to move off {hungOn.NodeId} and train 3 steps past step {atHang.CompletedSteps}");
            Assert.False(IsFinished(after), $"the job finished before the late work could run: {after.State} {after.Error}");
            var movedTo = after.Placement.Single(p => p.Replica == hungOn.Replica);
            Assert.Equal(hungOn.SiloName, movedTo.SiloName); // the same activation goes on: that is the case under test
            output.WriteLine($"hung at step {atHang.CompletedSteps} (epoch {atHang.Epoch}); replica {hungOn.Replica} moved {hungOn.NodeId} -> {movedTo.NodeId}, epoch {after.Epoch}");

            // 3. The late work runs while the new epoch trains.
            await late(moved, stays, async () =>
            {
                hang.Clear(hungOn.NodeId);
                await Eventually.True(() => Task.FromResult(device.CompletedOperations > before), Deadline, "the late work to run");
                var ranLate = await job.GetStatus();
                Assert.False(IsFinished(ranLate), $"the job finished before the late work ran: {ranLate.State} {ranLate.Error}");
            });

            var done = await Finished(job);
            output.WriteLine(JobHistory.Told(await JobHistory.All(fixture, spec.JobId)));
            Assert.True(done.State == JobState.Completed, $"job ended {done.State}: {done.Error}");
            await AssertReferenceTrajectory(job, spec);
        }
        finally
        {
            hang.Clear(hungOn.NodeId);
            fixture.First.Release();
            fixture.Second.Release();
        }
    }
}
