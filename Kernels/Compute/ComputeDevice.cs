using TorchSharp;

namespace Cluster.Kernels.Compute;

/// <summary>
/// Chooses the torch device ("auto", "cpu", "cuda", "cuda:N") and the intra-op thread count. The first choice of a
/// process also sets up its host allocator (<see cref="HostAllocator"/>), so every trainer runs with the same one.
/// </summary>
public static class ComputeDevice
{
    /// <summary>
    /// Resolves a device spec. "auto" is CUDA device 0 when CUDA is available, else the CPU. A CUDA spec on a machine
    /// without CUDA fails with a message that says so, rather than silently falling back. Choosing a CUDA device makes
    /// the process's CUDA compute deterministic (<see cref="CudaDeterminism.Apply"/>).
    /// </summary>
    public static torch.Device Resolve(string spec = "auto")
    {
        var device = ResolveSpec(spec);
        if (device.type == DeviceType.CUDA) CudaDeterminism.Apply();
        return device;
    }

    private static torch.Device ResolveSpec(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        HostAllocator.Tune(); // before the trainer's first tensors
        CudaDeterminism.EnsureCublasWorkspaceConfig(); // before the first CUDA call of the process
        string s = spec.Trim().ToLowerInvariant();
        if (s is "" or "auto")
            return torch.cuda.is_available() ? torch.CUDA : torch.CPU;
        if (s == "cpu")
            return torch.CPU;
        if (s == "cuda" || s.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (!torch.cuda.is_available())
                throw new ArgumentException($"Device '{spec}' was asked for but CUDA is not available on this machine: use 'cpu' or 'auto', or build with a CUDA libtorch package (see build/LibTorch.md).", nameof(spec));
            int index = 0;
            if (s.Length > 4 && (!int.TryParse(s.AsSpan(5), out index) || index < 0 || index >= torch.cuda.device_count()))
                throw new ArgumentException($"Device '{spec}': there are {torch.cuda.device_count()} CUDA devices (cuda:0 … cuda:{torch.cuda.device_count() - 1}).", nameof(spec));
            return new torch.Device(DeviceType.CUDA, index);
        }
        throw new ArgumentException($"Device '{spec}' is not recognised: use 'auto', 'cpu', 'cuda' or 'cuda:N'.", nameof(spec));
    }

    /// <summary>Number of CUDA devices, 0 without CUDA; with CUDA devices the process's CUDA compute is made deterministic.</summary>
    public static int CudaDeviceCount()
    {
        HostAllocator.Tune(); // before the trainer's first tensors
        CudaDeterminism.EnsureCublasWorkspaceConfig(); // before the first CUDA call of the process
        int count = torch.cuda.is_available() ? torch.cuda.device_count() : 0;
        if (count > 0) CudaDeterminism.Apply();
        return count;
    }

    /// <summary>Sets the intra-op thread count of libtorch; 0 leaves libtorch's default.</summary>
    public static void SetThreads(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(threads);
        if (threads > 0)
            torch.set_num_threads(threads);
    }
}
