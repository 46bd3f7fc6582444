using Cluster.Grains.Compute;
using Cluster.Grains.Hosting;
using Microsoft.Extensions.Options;
using TorchSharp;

namespace Cluster.Grains.Tests;

/// <summary>The device-error injection: which operations fail, whether they ran first, and the drill's trigger file.</summary>
public sealed class ComputeFaultTests : IDisposable
{
    private readonly string _triggers = Path.Combine(Path.GetTempPath(), "compute-fault-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task A_fault_fails_its_operations_after_those_that_pass_and_then_the_device_works_again()
    {
        var fault = new ComputeFault();
        using var worker = new DeviceWorker("test/cpu0", torch.CPU, threads: 1, memoryBytes: 1 << 20, stepTimeWindow: 4, fault: fault);
        int ran = 0;
        fault.Set(worker.NodeId, ComputeFaultMode.Fail, passing: 2, times: 2);
        Assert.Equal(1, (await worker.Run(() => ++ran)).Value);
        Assert.Equal(2, (await worker.Run(() => ++ran)).Value);
        var failed = await Assert.ThrowsAsync<DeviceFaultException>(() => worker.Run(() => ++ran));
        Assert.Contains("test/cpu0", failed.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<DeviceFaultException>(() => worker.Run(() => ++ran));
        Assert.Equal(2, ran); // failed before they ran
        Assert.False(fault.IsSet(worker.NodeId));
        Assert.Equal(3, (await worker.Run(() => ++ran)).Value);
        Assert.Equal(2, fault.Hits(worker.NodeId));
        Assert.Equal(5, worker.CompletedOperations);
        Assert.Null(worker.InFlightSince);
    }

    [Fact]
    public async Task An_operation_that_fails_after_running_has_its_effects()
    {
        var fault = new ComputeFault();
        using var worker = new DeviceWorker("test/cpu0", torch.CPU, threads: 1, memoryBytes: 1 << 20, stepTimeWindow: 4, fault: fault);
        int ran = 0;
        fault.Set(worker.NodeId, ComputeFaultMode.FailAfterRunning, times: 1);
        var failed = await Assert.ThrowsAsync<DeviceFaultException>(() => worker.Run(() => ++ran));
        Assert.Contains("ran, then failed", failed.Message, StringComparison.Ordinal);
        Assert.Equal(1, ran);
        Assert.Equal(2, (await worker.Run(() => ++ran)).Value);
    }

    [Fact]
    public async Task A_fault_until_cleared_fails_every_operation_and_so_does_the_drill_file_while_it_exists()
    {
        Directory.CreateDirectory(_triggers);
        var fault = new ComputeFault(Options.Create(new TrainingClusterOptions { ComputeHangDirectory = _triggers }));
        using var worker = new DeviceWorker("silo-a/cpu0", torch.CPU, threads: 1, memoryBytes: 1 << 20, stepTimeWindow: 4, fault: fault);
        fault.Set(worker.NodeId, ComputeFaultMode.Fail);
        for (int i = 0; i < 5; i++) await Assert.ThrowsAsync<DeviceFaultException>(() => worker.Run(() => 1));
        fault.Clear(worker.NodeId);
        Assert.Equal(1, (await worker.Run(() => 1)).Value);

        string trigger = Path.Combine(_triggers, ComputeFault.TriggerFileName(worker.NodeId));
        Assert.Equal("silo-a_cpu0.fail", Path.GetFileName(trigger));
        await File.WriteAllTextAsync(trigger, "fail");
        await Assert.ThrowsAsync<DeviceFaultException>(() => worker.Run(() => 1));
        File.Delete(trigger);
        Assert.Equal(1, (await worker.Run(() => 1)).Value);
        Assert.Throws<ArgumentOutOfRangeException>(() => fault.Set(worker.NodeId, ComputeFaultMode.Fail, passing: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => fault.Set(worker.NodeId, ComputeFaultMode.Fail, times: 0));
    }

    public void Dispose()
    {
        if (Directory.Exists(_triggers)) Directory.Delete(_triggers, recursive: true);
    }
}
