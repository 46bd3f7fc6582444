using System.Runtime.InteropServices;

namespace Cluster.Kernels.Compute;

/// <summary>
/// Free and total memory of a CUDA device, from the CUDA driver (<c>libcuda.so.1</c>, installed with the NVIDIA driver;
/// libtorch's own CUDA runtime ships under a hashed file name, and TorchSharp 0.107 has no <c>mem_get_info</c>). The
/// device's primary context (the one libtorch uses) is pushed for the call and popped after, so any thread may ask.
/// Without the driver — every CPU machine — there is no answer, never an exception.
/// </summary>
public static class CudaMemory
{
    private const string Driver = "libcuda.so.1";
    private static readonly Lazy<Api?> s_api = new(Api.Load);

    /// <summary>Free and total bytes of CUDA device <paramref name="device"/>; false without a CUDA driver or on a driver error.</summary>
    public static bool TryGetInfo(int device, out long freeBytes, out long totalBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(device);
        freeBytes = totalBytes = 0;
        return s_api.Value is { } api && api.TryGetInfo(device, out freeBytes, out totalBytes);
    }

    private sealed unsafe class Api
    {
        private readonly delegate* unmanaged<uint, int> _init;
        private readonly delegate* unmanaged<int*, int, int> _deviceGet;
        private readonly delegate* unmanaged<IntPtr*, int, int> _primaryRetain;
        private readonly delegate* unmanaged<int, int> _primaryRelease;
        private readonly delegate* unmanaged<IntPtr, int> _push;
        private readonly delegate* unmanaged<IntPtr*, int> _pop;
        private readonly delegate* unmanaged<nuint*, nuint*, int> _memGetInfo;

        private Api(IntPtr library)
        {
            _init = (delegate* unmanaged<uint, int>)NativeLibrary.GetExport(library, "cuInit");
            _deviceGet = (delegate* unmanaged<int*, int, int>)NativeLibrary.GetExport(library, "cuDeviceGet");
            _primaryRetain = (delegate* unmanaged<IntPtr*, int, int>)NativeLibrary.GetExport(library, "cuDevicePrimaryCtxRetain");
            _primaryRelease = (delegate* unmanaged<int, int>)NativeLibrary.GetExport(library, "cuDevicePrimaryCtxRelease_v2");
            _push = (delegate* unmanaged<IntPtr, int>)NativeLibrary.GetExport(library, "cuCtxPushCurrent_v2");
            _pop = (delegate* unmanaged<IntPtr*, int>)NativeLibrary.GetExport(library, "cuCtxPopCurrent_v2");
            _memGetInfo = (delegate* unmanaged<nuint*, nuint*, int>)NativeLibrary.GetExport(library, "cuMemGetInfo_v2");
        }

        public static Api? Load()
        {
            if (!OperatingSystem.IsLinux() || !NativeLibrary.TryLoad(Driver, out var library)) return null;
            try
            {
                var api = new Api(library);
                return api._init(0) == 0 ? api : null;
            }
            catch (EntryPointNotFoundException)
            {
                return null; // a driver too old for the _v2 entry points
            }
        }

        public bool TryGetInfo(int ordinal, out long freeBytes, out long totalBytes)
        {
            freeBytes = totalBytes = 0;
            int device;
            IntPtr context;
            if (_deviceGet(&device, ordinal) != 0 || _primaryRetain(&context, device) != 0) return false;
            try
            {
                if (_push(context) != 0) return false;
                nuint free, total;
                int status = _memGetInfo(&free, &total);
                IntPtr popped;
                _pop(&popped);
                if (status != 0) return false;
                freeBytes = (long)free;
                totalBytes = (long)total;
                return true;
            }
            finally
            {
                _primaryRelease(device);
            }
        }
    }
}
