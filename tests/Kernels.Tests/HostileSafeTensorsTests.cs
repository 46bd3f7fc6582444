using System.Buffers.Binary;
using System.Text;
using Cluster.Kernels.Checkpoint;
using Cluster.Kernels.Wire;
using CsCheck;

namespace Cluster.Kernels.Tests;

/// <summary>Every byte of a checkpoint is hostile: whatever a file holds, reading it ends in its content or in <see cref="CheckpointCorruptException"/>.</summary>
public sealed class HostileSafeTensorsTests
{
    private static readonly byte[] s_valid = SafeTensors.Serialize(
    [
        new("a", new WireTensor(WireDType.Float32, [2, 3], new byte[24])),
        new("b", new WireTensor(WireDType.Int64, [1], new byte[8])),
    ], new Dictionary<string, string> { ["format"] = "x" });

    /// <summary>Parses, and fails the test on any exception other than the one clear error type.</summary>
    private static void ParsesOrRefuses(byte[] image)
    {
        try
        {
            var content = SafeTensors.Parse(image, "fuzz.safetensors");
            Assert.All(content.Tensors, t => Assert.Equal(t.Value.Data.LongLength, t.Value.ElementCount * WireDTypes.ElementSize(t.Value.DType)));
        }
        catch (CheckpointCorruptException e)
        {
            Assert.Contains("fuzz.safetensors", e.Message, StringComparison.Ordinal);
        }
    }

    private static byte[] WithHeader(string json, int dataBytes = 0)
    {
        byte[] header = Encoding.UTF8.GetBytes(json);
        var image = new byte[8 + header.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(image, (ulong)header.Length);
        header.CopyTo(image, 8);
        return image;
    }

    [Fact]
    public void Random_bytes_are_refused_clearly() =>
        Gen.Byte.Array[0, 256].Sample(ParsesOrRefuses, iter: 2000);

    [Fact]
    public void Mutated_valid_files_parse_or_are_refused_clearly() =>
        Gen.Select(Gen.Int[0, s_valid.Length - 1], Gen.Byte, Gen.Int[0, s_valid.Length], Gen.Int[0, 3]).Sample(m =>
        {
            var (at, value, cut, kind) = m;
            byte[] image = (byte[])s_valid.Clone();
            switch (kind)
            {
                case 0: image[at] = value; break;
                case 1: image = image[..cut]; break;
                case 2: BinaryPrimitives.WriteUInt64LittleEndian(image, (ulong)value << (8 * (at % 8))); break;
                default: image[at] ^= (byte)(1 << (value % 8)); break;
            }
            ParsesOrRefuses(image);
        }, iter: 3000);

    [Theory]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8, "twice")]
    [InlineData("""{"__metadata__":{"k":"1"},"__metadata__":{"k":"2"}}""", 0, "twice")]
    [InlineData("""{"__metadata__":{"k":"1","k":"2"}}""", 0, "twice")]
    [InlineData("""{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,0]}}""", 0, "overflows")]
    [InlineData("""{"a":{"dtype":"F32","shape":[9223372036854775807],"data_offsets":[0,4]}}""", 4, "overflows")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,99999999999999999999]}}""", 4, "malformed")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}""", 4, "spans")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}""", 4, "malformed")]
    [InlineData("""{"a":{"dtype":"F32","shape":{"x":1},"data_offsets":[0,4]}}""", 4, "shape")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}""", 8, "data_offsets")]
    [InlineData("""{"a":[1,2,3]}""", 0, "not an object")]
    [InlineData("""{"a":{"dtype":7,"shape":[1],"data_offsets":[0,4]}}""", 4, "malformed")]
    [InlineData("""{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,4]}}""", 4, "needs 12")]
    [InlineData("""[1,2]""", 0, "not a JSON object")]
    public void Hostile_headers_get_one_clear_error(string json, int dataBytes, string expected)
    {
        var e = Assert.Throws<CheckpointCorruptException>(() => SafeTensors.Parse(WithHeader(json, dataBytes), "bad.safetensors"));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Deep_json_and_huge_header_lengths_are_refused()
    {
        string deep = new string('[', 10_000) + new string(']', 10_000);
        Assert.Throws<CheckpointCorruptException>(() => SafeTensors.Parse(WithHeader("{\"a\":" + deep + "}"), "deep"));
        var huge = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(huge, ulong.MaxValue);
        Assert.Throws<CheckpointCorruptException>(() => SafeTensors.Parse(huge, "huge"));
        BinaryPrimitives.WriteUInt64LittleEndian(huge, 1UL << 40);
        Assert.Throws<CheckpointCorruptException>(() => SafeTensors.Parse(huge, "huge"));
    }

    [Fact]
    public void Generated_headers_from_hostile_pieces_parse_or_are_refused() =>
        Gen.Select(Gen.OneOf<string>("a", "b", "__metadata__", "", "a\u0000"), Gen.OneOf<string>("F32", "I64", "U8", "F64", "XX"),
                Gen.Long.Array[0, 4], Gen.Long.Array[0, 3], Gen.Int[0, 64])
            .Array[1, 4]
            .Sample(entries =>
            {
                var json = new StringBuilder("{");
                foreach (var (name, dtype, shape, offsets, _) in entries)
                {
                    if (json.Length > 1) json.Append(',');
                    json.Append('"').Append(name.Replace("\u0000", "\\u0000", StringComparison.Ordinal)).Append("\":{\"dtype\":\"").Append(dtype)
                        .Append("\",\"shape\":[").AppendJoin(',', shape).Append("],\"data_offsets\":[").AppendJoin(',', offsets).Append("]}");
                }
                json.Append('}');
                ParsesOrRefuses(WithHeader(json.ToString(), entries[0].Item5));
            }, iter: 2000);
}
