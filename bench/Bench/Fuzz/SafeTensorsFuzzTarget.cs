using System.Buffers.Binary;
using System.Text;
using Cluster.Kernels.Checkpoint;
using Cluster.Kernels.Config;
using Cluster.Kernels.Wire;

namespace Cluster.Bench.Fuzz;

/// <summary>Checkpoint files: random bytes, mutated valid unit-state files, headers built from hostile pieces. Promise: content or <see cref="CheckpointCorruptException"/>.</summary>
internal sealed class SafeTensorsFuzzTarget : IFuzzTarget
{
    private static readonly ModelConfig s_config = new() { Layers = 1, DModel = 8, Heads = 2, VocabSize = 16, ContextLength = 4 };
    private static readonly string[] s_names = ["a", "b", "__metadata__", "", "a\\u0000", "block.0.w", "a\\ud800"];
    private static readonly string[] s_dtypes = ["F32", "I64", "U8", "F64", "BF16", "XX", ""];
    private readonly byte[] _valid;

    public SafeTensorsFuzzTarget()
    {
        var tensor = new WireTensor(WireDType.Float32, [2, 3], new byte[24]);
        _valid = UnitStateCodec.Encode(s_config, 1, "block.0", 5, [("block.0.w", tensor, tensor, tensor)]);
    }

    public string Name => "safetensors";

    public bool Run(Random random)
    {
        byte[] image = random.Next(4) switch
        {
            0 => HostileBytes.Random(random, 512),
            1 => Pieces(random),
            _ => HostileBytes.Mutate(random, _valid),
        };
        try
        {
            UnitStateCodec.Decode(s_config, "block.0", image, "fuzz.safetensors");
            return true;
        }
        catch (CheckpointCorruptException)
        {
            return false;
        }
    }

    private static byte[] Pieces(Random random)
    {
        var json = new StringBuilder("{");
        for (int entries = 1 + random.Next(4); entries > 0; entries--)
        {
            if (json.Length > 1) json.Append(',');
            json.Append('"').Append(s_names[random.Next(s_names.Length)]).Append("\":{\"dtype\":\"").Append(s_dtypes[random.Next(s_dtypes.Length)])
                .Append("\",\"shape\":[").AppendJoin(',', Enumerable.Range(0, random.Next(5)).Select(_ => HostileBytes.Edge(random)))
                .Append("],\"data_offsets\":[").AppendJoin(',', Enumerable.Range(0, random.Next(4)).Select(_ => HostileBytes.Edge(random))).Append("]}");
        }
        json.Append('}');
        if (random.Next(8) == 0) json.Insert(1, "\"deep\":" + new string('[', 200 + random.Next(2000)) + new string(']', 10) + ",");
        byte[] header = Encoding.UTF8.GetBytes(json.ToString());
        var image = new byte[8 + header.Length + random.Next(64)];
        BinaryPrimitives.WriteUInt64LittleEndian(image, random.Next(10) == 0 ? (ulong)HostileBytes.Edge(random) : (ulong)header.Length);
        header.CopyTo(image, 8);
        return image;
    }
}
