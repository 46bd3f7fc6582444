using Cluster.Kernels.Compute;
using TorchSharp;
using static TorchSharp.torch;

namespace Cluster.Kernels.Tests;

/// <summary>libtorch loads inside the test host (the GLIBCXX fix worked) and device specs resolve as documented.</summary>
public sealed class TorchSharpLoadTests
{
    [Fact]
    public void Native_library_loads_and_a_small_tensor_op_gives_the_right_number()
    {
        using var scope = NewDisposeScope();
        var a = tensor(new float[] { 1, 2, 3, 4 }, [2, 2]);
        var b = tensor(new float[] { 5, 6, 7, 8 }, [2, 2]);
        var product = a.matmul(b); // [[19, 22], [43, 50]]
        Assert.Equal(new float[] { 19, 22, 43, 50 }, product.data<float>().ToArray());
        Assert.Equal(134.0f, product.sum().item<float>());
    }

    [Fact]
    public void Cuda_availability_query_returns_without_throwing()
    {
        bool available = cuda.is_available();
        Assert.Equal(available ? cuda.device_count() : 0, ComputeDevice.CudaDeviceCount());
    }

    [Fact]
    public void Cpu_spec_resolves_to_the_cpu()
    {
        Assert.Equal(DeviceType.CPU, ComputeDevice.Resolve("cpu").type);
        Assert.Equal(DeviceType.CPU, ComputeDevice.Resolve("  CPU ").type);
    }

    [Fact]
    public void Auto_spec_resolves_to_cuda_when_available_else_cpu()
    {
        var expected = cuda.is_available() ? DeviceType.CUDA : DeviceType.CPU;
        Assert.Equal(expected, ComputeDevice.Resolve("auto").type);
        Assert.Equal(expected, ComputeDevice.Resolve().type);
        Assert.Equal(expected, ComputeDevice.Resolve("").type);
    }

    [Fact]
    public void Cuda_spec_without_cuda_throws_saying_cuda_is_not_available()
    {
        if (cuda.is_available())
        {
            // On a CUDA machine the same spec must give device 0 instead (xunit 2 has no dynamic skip).
            var device = ComputeDevice.Resolve("cuda:0");
            Assert.Equal(DeviceType.CUDA, device.type);
            Assert.Equal(0, device.index);
            return;
        }
        foreach (string spec in new[] { "cuda:0", "cuda" })
        {
            var e = Assert.Throws<ArgumentException>(() => ComputeDevice.Resolve(spec));
            Assert.Contains("CUDA is not available", e.Message, StringComparison.Ordinal);
            Assert.Contains($"'{spec}'", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Unknown_device_spec_throws_naming_the_bad_value()
    {
        var e = Assert.Throws<ArgumentException>(() => ComputeDevice.Resolve("tpu"));
        Assert.Contains("'tpu'", e.Message, StringComparison.Ordinal);
        Assert.Contains("not recognised", e.Message, StringComparison.Ordinal);
    }
}
