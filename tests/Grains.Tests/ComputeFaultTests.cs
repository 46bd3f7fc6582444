using Cluster.Grains.Compute;
using Cluster.Grains.Hosting;
using Microsoft.Extensions.Options;
using System.Runtime.InteropServices;
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
    public async Task A_fault_at_one_operation_lets_every_other_operation_through_and_counts_only_its_own()
    {
        var fault = new ComputeFault();
        using var worker = new DeviceWorker("test/cpu0", torch.CPU, threads: 1, memoryBytes: 1 << 20, stepTimeWindow: 4, fault: fault);
        var counter = new OperationCounter();
        fault.Set(worker.NodeId, ComputeFaultMode.Fail, passing: 1, times: 1, operation: nameof(OperationCounter.Targeted));
        Assert.Equal(1, (await worker.Run(counter.Other)).Value);
        Assert.Equal(1, (await worker.Run(counter.Targeted)).Value); // the one that passes
        Assert.Equal(2, (await worker.Run(counter.Other)).Value);
        await Assert.ThrowsAsync<DeviceFaultException>(() => worker.Run(counter.Targeted));
        Assert.Equal(3, (await worker.Run(counter.Other)).Value);
        Assert.Equal(2, (await worker.Run(counter.Targeted)).Value); // the fault is spent
        Assert.Equal(1, fault.Hits(worker.NodeId));
        Assert.False(fault.IsSet(worker.NodeId));
        Assert.Throws<ArgumentException>(() => fault.Set(worker.NodeId, ComputeFaultMode.Fail, operation: " "));
    }

    private sealed class OperationCounter
    {
        private int _targeted;
        private int _other;

        public int Targeted() => ++_targeted;

        public int Other() => ++_other;
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

    [Fact]
    public void Only_the_devices_own_errors_count_as_device_errors_not_the_works()
    {
        Assert.True(DeviceWorker.IsDeviceError(new DeviceFaultException("injected")));
        Assert.True(DeviceWorker.IsDeviceError(new ExternalException("CUDA error: an illegal memory access was encountered")));
        Assert.True(DeviceWorker.IsDeviceError(new ExternalException("CUDA error: uncorrectable ECC error encountered")));
        Assert.True(DeviceWorker.IsDeviceError(new ExternalException("CUBLAS_STATUS_EXECUTION_FAILED when calling `cublasSgemm( handle, opa, opb, m, n, k, &alpha, a, lda, b, ldb, &beta, c, ldc)`")));
        Assert.False(DeviceWorker.IsDeviceError(new ExternalException("CUDA out of memory. Tried to allocate 2.00 GiB")));
        Assert.False(DeviceWorker.IsDeviceError(new InvalidOperationException("CUDA error: not from libtorch")));
        Assert.False(DeviceWorker.IsDeviceError(new ExternalException("mat1 and mat2 shapes cannot be multiplied (2x3 and 2x3)")));
        // Those messages are libtorch's as TorchSharp passes them on. A real libtorch error cannot be raised in a test
        // here: tried with a shape mismatch (2026-12-04), the c10::Error was not caught at the native boundary of this
        // machine's patched LibTorchSharp (see STACK-NOTES) and terminated the test host — so the injected fault is
        // the only device error the tests run.
    }

    public void Dispose()
    {
        if (Directory.Exists(_triggers)) Directory.Delete(_triggers, recursive: true);
    }
}
