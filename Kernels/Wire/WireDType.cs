namespace Cluster.Kernels.Wire;

/// <summary>Element types that cross process boundaries and live in checkpoint files (safetensors names in comments).</summary>
public enum WireDType : byte
{
    Float32 = 1, // F32
    Float16 = 2, // F16
    BFloat16 = 3, // BF16
    Float64 = 4, // F64
    Int64 = 5, // I64
    Int32 = 6, // I32
    UInt16 = 7, // U16
    UInt8 = 8, // U8
}
