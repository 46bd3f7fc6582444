using Cluster.Kernels.Compute;

namespace Cluster.Kernels.Tests;

/// <summary>Device memory comes from the CUDA driver on a GPU machine, and is simply absent (no exception) elsewhere.</summary>
public sealed class CudaMemoryTests
{
    [Fact]
    public void Free_and_total_memory_are_reported_for_each_cuda_device_and_absent_without_one()
    {
        int devices = ComputeDevice.CudaDeviceCount();
        if (devices == 0)
        {
            Assert.False(CudaMemory.TryGetInfo(0, out long free, out long total));
            Assert.Equal(0, free);
            Assert.Equal(0, total);
            return;
        }
        for (int i = 0; i < devices; i++)
        {
            Assert.True(CudaMemory.TryGetInfo(i, out long free, out long total), $"no memory figures for cuda:{i}");
            Assert.InRange(free, 1, total);
        }
        Assert.False(CudaMemory.TryGetInfo(devices, out _, out _)); // no such device
    }
}
