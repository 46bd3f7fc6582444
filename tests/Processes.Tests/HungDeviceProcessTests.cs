using Cluster.Grains.Compute;

namespace Cluster.Processes.Tests;

/// <summary>
/// A device of a real silo process hangs or fails every operation (fault injection through
/// <c>TrainingCluster:ComputeHangDirectory</c>: the process stays alive, its sockets open, its heartbeats flowing). A
/// hang only the age of the device's operation in flight gives away; a failing device its errors, in whatever
/// operation. The node turns Unhealthy, the job leaves it and finishes with the reference trajectory.
/// </summary>
public sealed class HungDeviceProcessTests : ProcessClusterTest
{
    private string HangDirectory => Path.Combine(DataRoot, "hang");

    // A short hang floor, so the test need not wait the 30 s default; far above any tiny-model operation here.
    protected override IReadOnlyList<string> SiloSettings =>
        ["--TrainingCluster:DeviceHangFloor=00:00:05", $"--TrainingCluster:ComputeHangDirectory={HangDirectory}"];

    [Theory]
    [InlineData("hang", "device hung")]
    [InlineData("fail", "injected device fault")]
    public async Task A_hung_or_failing_device_in_a_silo_process_is_left_and_the_job_finishes_with_the_reference_trajectory(string fault, string named)
    {
        Directory.CreateDirectory(HangDirectory);
        var (job, spec, _, _) = await SubmitOnSilo1(TinyJob.Spec($"{fault}-device", stages: 4, steps: 150, checkpointInterval: 5));
        var running = await WaitForStep(job, 8);
        var stage = running.Placement.Single(p => p.Stage == 2);

        string trigger = fault == "hang" ? ComputeHang.TriggerFileName(stage.NodeId) : ComputeFault.TriggerFileName(stage.NodeId);
        await File.WriteAllTextAsync(Path.Combine(HangDirectory, trigger), fault);

        await AssertFinishedExactly(job, spec, running);
        var done = await Retry(job.GetStatus);
        Assert.True(done.Placement.All(p => p.NodeId != stage.NodeId),
            $"no stage may stay on the {fault} node {stage.NodeId}: {string.Join(", ", done.Placement.Select(p => p.NodeId))}{Environment.NewLine}{Diagnostics(spec.JobId)}");
        Assert.True(Cluster.Silos.All(s => !s.HasExited), $"a {fault} device must not take its silo process down");
        await WithDiagnostics(spec.JobId, () => Eventually.True(() => Task.FromResult(Events.Any(e => e.Kind == ClusterEventKind.NodeLost && e.NodeId == stage.NodeId
                && e.Message.Contains(named, StringComparison.Ordinal))),
            TimeSpan.FromSeconds(30), $"a NodeLost event for {stage.NodeId} naming '{named}'"));
    }
}
