using Cluster.Kernels.Compute;

namespace Cluster.Kernels.Tests;

/// <summary>Runs alone: it flips a process-wide libtorch switch for a moment.</summary>
[CollectionDefinition(nameof(ProcessWideTorchSettings), DisableParallelization = true)]
public sealed class ProcessWideTorchSettings;

/// <summary>
/// The CUDA determinism switches reach libtorch (no GPU here: what can be checked on the CPU build is that the native
/// environment gets the cuBLAS workspace setting and that libtorch's global context takes and reports the switches).
/// </summary>
[Collection(nameof(ProcessWideTorchSettings))]
public sealed class CudaDeterminismTests
{
    [Fact]
    public void Cublas_workspace_config_is_in_the_native_environment_before_any_cuda_call()
    {
        Assert.Equal(0, ComputeDevice.CudaDeviceCount()); // the first CUDA query of the process sets it
        string? value = CudaDeterminism.CublasWorkspaceConfig();
        // An operator's own setting (in the environment the process started with) is kept; otherwise ours is there.
        string? preset = File.ReadAllText("/proc/self/environ").Split('\0')
            .FirstOrDefault(v => v.StartsWith(CudaDeterminism.CublasWorkspaceVariable + "=", StringComparison.Ordinal))?
            [(CudaDeterminism.CublasWorkspaceVariable.Length + 1)..];
        Assert.Equal(preset ?? CudaDeterminism.CublasWorkspaceValue, value);
    }

    [Fact]
    public void Libtorch_takes_the_deterministic_algorithms_switch()
    {
        bool before = CudaDeterminism.DeterministicAlgorithms;
        try
        {
            CudaDeterminism.SetDeterministic(true);
            Assert.True(CudaDeterminism.DeterministicAlgorithms);
            CudaDeterminism.SetDeterministic(false);
            Assert.False(CudaDeterminism.DeterministicAlgorithms);
        }
        finally
        {
            CudaDeterminism.SetDeterministic(before);
        }
        // Without CUDA nothing applied the settings: CPU attention keeps its default kernels (and its bits).
        Assert.True(CudaDeterminism.FastAttentionEnabled);
    }
}
