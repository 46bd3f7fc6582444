using System.Runtime.InteropServices;

namespace Cluster.Kernels.Compute;

/// <summary>
/// Keeps glibc's <c>malloc</c> from handing the compute's host memory back to the kernel between steps. A training step
/// allocates and frees the same large tensors every step (activations, gradients, kernels' scratch space); with glibc's
/// defaults much of that memory is returned when freed (the heap's top trimmed, large blocks unmapped) and faulted in
/// again, page by page, on the next step — measured on a 2-core CPU host (bench/README.md, 2026-12-07): a bare 1-thread
/// trainer took ≈ 5,100 page faults and 7 % of its CPU in the kernel per step, and ran 7–21 % faster with the thresholds
/// below. So the process keeps what it freed: blocks up to <see cref="MmapThresholdBytes"/> come from the heap, and
/// the heap is trimmed only past <see cref="TrimThresholdBytes"/> of free memory at its top. The cost is resident
/// memory: the process keeps about its peak of host allocations instead of returning the difference between steps.
/// <para>
/// Applied once per process, at its first device choice (<see cref="ComputeDevice"/>, before a trainer's first tensor;
/// a silo also applies it at start and logs the outcome), so every trainer of this library — the cluster's device
/// workers and the reference trainers the benchmarks compare them with — runs with the same allocator. An operator who
/// configures glibc's allocator (<c>GLIBC_TUNABLES</c>, <c>MALLOC_TRIM_THRESHOLD_</c>, <c>MALLOC_MMAP_THRESHOLD_</c>,
/// <c>MALLOC_TOP_PAD_</c>, or preloads another allocator with <c>LD_PRELOAD</c>) is left alone, and
/// <c>CLUSTER_HOST_ALLOCATOR=default</c> keeps glibc's defaults without configuring anything.
/// </para>
/// </summary>
public static partial class HostAllocator
{
    /// <summary>The environment variable that turns this off: <c>default</c> keeps glibc's defaults.</summary>
    public const string ChoiceVariable = "CLUSTER_HOST_ALLOCATOR";

    /// <summary>Blocks up to this size come from the heap, not from a mapping of their own (32 MiB: glibc's largest allowed value on 64-bit).</summary>
    public const int MmapThresholdBytes = 32 << 20;

    /// <summary>The heap is trimmed only once this much is free at its top (256 MiB; glibc's default is 128 KiB, raised with the mmap threshold).</summary>
    public const int TrimThresholdBytes = 256 << 20;

    /// <summary><c>mallopt</c>'s <c>M_TRIM_THRESHOLD</c>.</summary>
    internal const int MallocTrimThreshold = -1;

    /// <summary><c>mallopt</c>'s <c>M_MMAP_THRESHOLD</c>.</summary>
    internal const int MallocMmapThreshold = -3;

    /// <summary>Variables through which an operator configures the C library's allocator: any of them set, nothing is changed.</summary>
    internal static readonly string[] OperatorVariables = ["GLIBC_TUNABLES", "MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TOP_PAD_", "LD_PRELOAD"];
    private static readonly Lock s_gate = new();
    private static HostAllocatorOutcome? s_outcome;

    /// <summary>Sets the thresholds unless the operator chose otherwise (see the class comment); once per process, later calls return the first outcome.</summary>
    public static HostAllocatorOutcome Tune()
    {
        lock (s_gate)
        {
            return s_outcome ??= Decide(Environment.GetEnvironmentVariable, OperatingSystem.IsLinux(), TrySetOption);
        }
    }

    /// <summary>
    /// The decision, given the process's environment (<paramref name="variable"/>) and a way to set one of
    /// <c>mallopt</c>'s options (true when it took the value): set both thresholds unless the operator chose otherwise,
    /// and say which of them glibc took.
    /// </summary>
    internal static HostAllocatorOutcome Decide(Func<string, string?> variable, bool isLinux, Func<int, int, bool> setOption)
    {
        if (variable(ChoiceVariable) is { } choice)
        {
            if (choice.Trim().Equals("default", StringComparison.OrdinalIgnoreCase))
                return new(HostAllocatorChoice.OperatorChoice, $"{ChoiceVariable}=default: the C library's own thresholds kept");
            if (!choice.Trim().Equals("tuned", StringComparison.OrdinalIgnoreCase))
                throw new ArgumentException($"{ChoiceVariable}='{choice}' is not recognised: use 'tuned' (the default: freed host memory stays with the process) or 'default' (glibc's own thresholds).");
        }
        if (!isLinux)
            return new(HostAllocatorChoice.NotGlibc, "not Linux: the platform's allocator is left as it is");
        foreach (string name in OperatorVariables)
            if (!string.IsNullOrEmpty(variable(name)))
                return new(HostAllocatorChoice.OperatorChoice, $"{name} is set: the operator's allocator settings kept");
        bool mmap = setOption(MallocMmapThreshold, MmapThresholdBytes);
        bool trim = setOption(MallocTrimThreshold, TrimThresholdBytes);
        string mmapText = $"mmap threshold {MmapThresholdBytes >> 20} MiB", trimText = $"trim threshold {TrimThresholdBytes >> 20} MiB";
        return (mmap, trim) switch
        {
            (true, true) => new(HostAllocatorChoice.Tuned, $"glibc malloc keeps freed host memory: {mmapText}, {trimText}"),
            (false, false) => new(HostAllocatorChoice.NotGlibc, "mallopt refused both thresholds (not glibc's allocator?): left as it is"),
            _ => new(HostAllocatorChoice.PartlyTuned, $"mallopt took the {(mmap ? mmapText : trimText)} but refused the {(mmap ? trimText : mmapText)}: part of the freed host memory still goes back to the kernel"),
        };
    }

    private static bool TrySetOption(int option, int value)
    {
        try
        {
            return MallOpt(option, value) == 1;
        }
        catch (EntryPointNotFoundException)
        {
            return false; // a C library without mallopt
        }
    }

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int MallOpt(int option, int value);
}
