using Cluster.Grains.Compute;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Stages;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;
using static Cluster.Grains.Tests.DeviceFaultRuns;
using static Cluster.Grains.Tests.JobRuns;

namespace Cluster.Grains.Tests;

/// <summary>
/// Device work of an abandoned epoch cannot be taken back: an operation queued on a device that hung runs whenever the
/// device comes back, possibly after the job moved its stage to another device of the same silo, where the same
/// activation goes on. Such work must not write what the new epoch reads — the arrays a stage reuses from step to step
/// (their owner, <c>StageExecutor</c>, is new with every configuration). Here the late work is a data-parallel rank's reduction sum, hung on
/// its device, released while the new epoch's ranks have summed their chunks and hold them for each other.
/// </summary>
public sealed class StaleDeviceWorkTests(SpareSlotClusterFixture fixture, ITestOutputHelper output) : IClassFixture<SpareSlotClusterFixture>
{
    [Fact]
    public async Task A_reduction_sum_hung_on_a_device_the_stage_left_writes_nothing_the_new_epoch_reads()
    {
        var spec = TinyJob.Spec("stale-device-sum", 1, steps: 30, checkpointInterval: 10) with { MinReplicas = 2, MaxReplicas = 2 };
        var (job, running) = await Trained(fixture, spec, 3);
        var hungOn = running.Placement.OrderBy(p => p.Replica).First(); // this replica's device hangs in its reduction sum
        var peer = running.Placement.Single(p => p.Replica != hungOn.Replica);
        var moved = fixture.Client.GetGrain<IPipelineStageGrain>(StageKeys.Stage(spec.JobId, hungOn.Replica, 0)).GetGrainId();
        var stays = fixture.Client.GetGrain<IPipelineStageGrain>(StageKeys.Stage(spec.JobId, peer.Replica, 0)).GetGrainId();
        var silo = fixture.Cluster.Silos.Single().ServiceProvider;
        var hang = silo.GetRequiredService<ComputeHang>();
        var device = silo.GetRequiredService<DeviceWorkerPool>().Workers.Single(w => w.NodeId == hungOn.NodeId);
        try
        {
            // 1. The rank's call for its peer's gradients is held; its device is hung meanwhile, idle, so the next operation
            //    it runs — the sum that call's answer starts — hangs.
            fixture.First.Arm(c => c.SourceId == moved && c.TargetId == stays && c.InterfaceMethod.Name == nameof(IPipelineStageGrain.GetGradientRange));
            await fixture.First.Reached.WaitAsync(Deadline);
            var atHang = await job.GetStatus();
            hang.Set(hungOn.NodeId);
            fixture.First.Release();
            await Eventually.True(() => Task.FromResult(device.InFlightSince is not null), Deadline, $"the sum to hang on {hungOn.NodeId}");
            long before = device.CompletedOperations;

            // 2. The node turns unhealthy; the job moves the replica to the spare slot of the same silo and trains on, past
            //    the hung step (so a late sum of it holds other values than any step the new epoch sums).
            var after = await Eventually.Value(job.GetStatus, s => s.Epoch > atHang.Epoch && s.CompletedSteps >= atHang.CompletedSteps + 3
                    && s.Placement.All(p => p.NodeId != hungOn.NodeId) || IsFinished(s),
                Deadline, $"the job to move off {hungOn.NodeId} and train 3 steps past step {atHang.CompletedSteps}");
            Assert.False(IsFinished(after), $"the job finished before the late sum could run: {after.State} {after.Error}");
            var movedTo = after.Placement.Single(p => p.Replica == hungOn.Replica);
            Assert.Equal(hungOn.SiloName, movedTo.SiloName); // the same activation goes on: that is the case under test
            output.WriteLine($"hung at step {atHang.CompletedSteps} (epoch {atHang.Epoch}); replica {hungOn.Replica} moved {hungOn.NodeId} -> {movedTo.NodeId}, epoch {after.Epoch}");

            // 3. Both ranks of a new-epoch step have summed their chunks and each holds its reduced chunk for the other:
            //    the late sum runs now, then they read each other's.
            fixture.First.Arm(c => c.SourceId == stays && c.TargetId == moved && c.InterfaceMethod.Name == nameof(IPipelineStageGrain.GetReducedRange));
            fixture.Second.Arm(c => c.SourceId == moved && c.TargetId == stays && c.InterfaceMethod.Name == nameof(IPipelineStageGrain.GetReducedRange));
            await Task.WhenAll(fixture.First.Reached, fixture.Second.Reached).WaitAsync(Deadline);
            hang.Clear(hungOn.NodeId);
            await Eventually.True(() => Task.FromResult(device.CompletedOperations > before), Deadline, "the late sum to run");
            fixture.Second.Release();
            fixture.First.Release();

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
