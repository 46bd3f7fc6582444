namespace Cluster.Kernels.Compute;

/// <summary>How the process's host allocator was left by <see cref="HostAllocator.Tune"/>.</summary>
public enum HostAllocatorChoice
{
    /// <summary>glibc's thresholds set so freed memory stays with the process.</summary>
    Tuned,

    /// <summary>Left as the operator configured it (or asked for glibc's defaults).</summary>
    OperatorChoice,

    /// <summary>Not glibc (another OS or C library): nothing to set.</summary>
    NotGlibc,

    /// <summary>The C library took one threshold and refused the other: some freed memory still goes back to the kernel.</summary>
    PartlyTuned,
}
