using System.Diagnostics;
using static TorchSharp.torch;

namespace Cluster.Grains.Compute;

/// <summary>Measures a device's matmul throughput with a short run, so the scheduler can balance stages by speed.</summary>
public static class DeviceCalibration
{
    /// <summary>GFLOP/s of float32 matmuls of <paramref name="size"/>², measured for about <paramref name="duration"/>.</summary>
    public static double MeasureGigaflops(Device device, int size = 256, TimeSpan? duration = null)
    {
        var budget = duration ?? TimeSpan.FromMilliseconds(150);
        using var scope = NewDisposeScope();
        var a = randn(size, size, device: device);
        var b = randn(size, size, device: device);
        using (var warm = a.matmul(b)) { } // first call pays one-time costs
        long iterations = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < budget || iterations < 3)
        {
            using var c = a.matmul(b);
            if (device.type == TorchSharp.DeviceType.CUDA) cuda.synchronize();
            iterations++;
        }
        double flops = 2.0 * size * size * size * iterations;
        return flops / clock.Elapsed.TotalSeconds / 1e9;
    }
}
