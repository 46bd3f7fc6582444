using TorchSharp;

namespace Cluster.Kernels.Wire;

/// <summary>Sizes, names and torch mappings of <see cref="WireDType"/>.</summary>
public static class WireDTypes
{
    public static int ElementSize(WireDType dtype) => dtype switch
    {
        WireDType.Float32 or WireDType.Int32 => 4,
        WireDType.Float16 or WireDType.BFloat16 or WireDType.UInt16 => 2,
        WireDType.Float64 or WireDType.Int64 => 8,
        WireDType.UInt8 => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Unknown wire dtype."),
    };

    /// <summary>The dtype's name in the safetensors format.</summary>
    public static string SafeTensorsName(WireDType dtype) => dtype switch
    {
        WireDType.Float32 => "F32",
        WireDType.Float16 => "F16",
        WireDType.BFloat16 => "BF16",
        WireDType.Float64 => "F64",
        WireDType.Int64 => "I64",
        WireDType.Int32 => "I32",
        WireDType.UInt16 => "U16",
        WireDType.UInt8 => "U8",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Unknown wire dtype."),
    };

    public static bool TryParseSafeTensorsName(string name, out WireDType dtype)
    {
        dtype = name switch
        {
            "F32" => WireDType.Float32,
            "F16" => WireDType.Float16,
            "BF16" => WireDType.BFloat16,
            "F64" => WireDType.Float64,
            "I64" => WireDType.Int64,
            "I32" => WireDType.Int32,
            "U16" => WireDType.UInt16,
            "U8" => WireDType.UInt8,
            _ => 0,
        };
        return dtype != 0;
    }

    internal static torch.ScalarType ToScalarType(WireDType dtype) => dtype switch
    {
        WireDType.Float32 => torch.ScalarType.Float32,
        WireDType.Float16 => torch.ScalarType.Float16,
        WireDType.BFloat16 => torch.ScalarType.BFloat16,
        WireDType.Float64 => torch.ScalarType.Float64,
        WireDType.Int64 => torch.ScalarType.Int64,
        WireDType.Int32 => torch.ScalarType.Int32,
        WireDType.UInt8 => torch.ScalarType.Byte,
        WireDType.UInt16 => throw new NotSupportedException("UInt16 tensors exist only on the wire and in token files; widen to Int64 before compute."),
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Unknown wire dtype."),
    };

    internal static WireDType FromScalarType(torch.ScalarType type) => type switch
    {
        torch.ScalarType.Float32 => WireDType.Float32,
        torch.ScalarType.Float16 => WireDType.Float16,
        torch.ScalarType.BFloat16 => WireDType.BFloat16,
        torch.ScalarType.Float64 => WireDType.Float64,
        torch.ScalarType.Int64 => WireDType.Int64,
        torch.ScalarType.Int32 => WireDType.Int32,
        torch.ScalarType.Byte => WireDType.UInt8,
        _ => throw new NotSupportedException($"Tensor dtype {type} has no wire format."),
    };
}
