using System.Runtime.InteropServices;

namespace Cluster.Kernels.Compute;

/// <summary>
/// Makes CUDA compute repeatable bit for bit: cuBLAS gets a fixed workspace (<c>CUBLAS_WORKSPACE_CONFIG=:4096:8</c>,
/// which must be in the native environment before cuBLAS starts), libtorch is told to use deterministic algorithms
/// only (and fail on an op that has none), cuDNN does not benchmark, and scaled-dot-product attention runs on the math
/// backend (the flash, memory-efficient and cuDNN kernels reduce in an order that can change between runs).
/// TorchSharp 0.107 has no binding for these switches (<c>use_deterministic_algorithms</c> throws
/// NotImplementedException), so they are called on libtorch's global context directly. Bit-identity on CUDA then
/// means: the same device model, the same libtorch build, the same thread settings — not CPU = CUDA.
/// </summary>
public static partial class CudaDeterminism
{
    public const string CublasWorkspaceVariable = "CUBLAS_WORKSPACE_CONFIG";
    public const string CublasWorkspaceValue = ":4096:8";
    private const string Torch = "torch_cpu";
    private static readonly Lock s_gate = new();
    private static bool s_applied;

    /// <summary>
    /// Puts <c>CUBLAS_WORKSPACE_CONFIG</c> into the process's native environment unless the operator set it. Called
    /// before the first CUDA call (device detection); a no-op away from Linux, where .NET's own environment is the
    /// native one.
    /// </summary>
    public static void EnsureCublasWorkspaceConfig()
    {
        if (!OperatingSystem.IsLinux()) return;
        if (GetEnv(CublasWorkspaceVariable) != IntPtr.Zero) return;
        if (SetEnv(CublasWorkspaceVariable, CublasWorkspaceValue, overwrite: 0) != 0)
            throw new InvalidOperationException($"Could not set {CublasWorkspaceVariable}={CublasWorkspaceValue} in the process environment: set it before starting the process.");
        Environment.SetEnvironmentVariable(CublasWorkspaceVariable, CublasWorkspaceValue);
    }

    /// <summary>The native environment's value of <c>CUBLAS_WORKSPACE_CONFIG</c> (what cuBLAS reads), or null.</summary>
    public static string? CublasWorkspaceConfig()
    {
        if (!OperatingSystem.IsLinux()) return Environment.GetEnvironmentVariable(CublasWorkspaceVariable);
        var value = GetEnv(CublasWorkspaceVariable);
        return value == IntPtr.Zero ? null : Marshal.PtrToStringUTF8(value);
    }

    /// <summary>Switches libtorch to deterministic algorithms and math attention; once per process, for CUDA processes.</summary>
    public static void Apply()
    {
        lock (s_gate)
        {
            if (s_applied) return;
            EnsureCublasWorkspaceConfig();
            SetDeterministic(true);
            var context = GlobalContext();
            SetBenchmarkCuDnn(context, false);
            SetSdpFlash(context, false);
            SetSdpMemEfficient(context, false);
            SetSdpCuDnn(context, false);
            SetSdpMath(context, true);
            s_applied = true;
        }
    }

    /// <summary>Whether libtorch runs deterministic algorithms only (a process-wide libtorch setting).</summary>
    public static bool DeterministicAlgorithms => IsDeterministicAlgorithms(GlobalContext());

    /// <summary>Whether attention may use the flash, memory-efficient or cuDNN kernels (false once applied).</summary>
    public static bool FastAttentionEnabled
    {
        get
        {
            var context = GlobalContext();
            return FlashSdpEnabled(context) || MemEfficientSdpEnabled(context) || CuDnnSdpEnabled(context);
        }
    }

    /// <summary>Sets libtorch's deterministic-algorithms and deterministic-cuDNN switches (errors, not warnings, on ops without a deterministic kernel).</summary>
    internal static void SetDeterministic(bool enabled)
    {
        var context = GlobalContext();
        SetDeterministicAlgorithms(context, enabled, warnOnly: false);
        SetDeterministicCuDnn(context, enabled);
    }

    [LibraryImport("libc", EntryPoint = "getenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr GetEnv(string name);

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);

    // at::globalContext() and at::Context members (Itanium C++ ABI: `this` is the first argument).
    [LibraryImport(Torch, EntryPoint = "_ZN2at13globalContextEv")]
    private static partial IntPtr GlobalContext();

    [LibraryImport(Torch, EntryPoint = "_ZN2at7Context26setDeterministicAlgorithmsEbb")]
    private static partial void SetDeterministicAlgorithms(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled, [MarshalAs(UnmanagedType.U1)] bool warnOnly);

    [LibraryImport(Torch, EntryPoint = "_ZNK2at7Context23deterministicAlgorithmsEv")]
    [return: MarshalAs(UnmanagedType.U1)]
    private static partial bool IsDeterministicAlgorithms(IntPtr context);

    [LibraryImport(Torch, EntryPoint = "_ZN2at7Context21setDeterministicCuDNNEb")]
    private static partial void SetDeterministicCuDnn(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    [LibraryImport(Torch, EntryPoint = "_ZN2at7Context17setBenchmarkCuDNNEb")]
    private static partial void SetBenchmarkCuDnn(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    [LibraryImport(Torch, EntryPoint = "_ZN2at7Context14setSDPUseFlashEb")]
    private static partial void SetSdpFlash(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    [LibraryImport(Torch, EntryPoint = "_ZN2at7Context21setSDPUseMemEfficientEb")]
    private static partial void SetSdpMemEfficient(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    [LibraryImport(Torch, EntryPoint = "_ZN2at7Context14setSDPUseCuDNNEb")]
    private static partial void SetSdpCuDnn(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    [LibraryImport(Torch, EntryPoint = "_ZN2at7Context13setSDPUseMathEb")]
    private static partial void SetSdpMath(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    [LibraryImport(Torch, EntryPoint = "_ZNK2at7Context19userEnabledFlashSDPEv")]
    [return: MarshalAs(UnmanagedType.U1)]
    private static partial bool FlashSdpEnabled(IntPtr context);

    [LibraryImport(Torch, EntryPoint = "_ZNK2at7Context26userEnabledMemEfficientSDPEv")]
    [return: MarshalAs(UnmanagedType.U1)]
    private static partial bool MemEfficientSdpEnabled(IntPtr context);

    [LibraryImport(Torch, EntryPoint = "_ZNK2at7Context19userEnabledCuDNNSDPEv")]
    [return: MarshalAs(UnmanagedType.U1)]
    private static partial bool CuDnnSdpEnabled(IntPtr context);
}
