using System.Globalization;
using System.Text.Json;
using Cluster.Kernels.Config;
using Cluster.Kernels.Wire;

namespace Cluster.Kernels.Checkpoint;

/// <summary>
/// Encodes and decodes one unit's state. Tensor keys are global parameter names (<c>block.3.attn_qkv.weight</c>)
/// and <c>optimizer.exp_avg.…</c> / <c>optimizer.exp_avg_sq.…</c> for the moments, so the files of all units merge
/// into one ordinary state dict in Python.
/// </summary>
public static class UnitStateCodec
{
    public const string Format = "cluster.unit-state.v1";
    public const string ExpAvgPrefix = "optimizer.exp_avg.";
    public const string ExpAvgSqPrefix = "optimizer.exp_avg_sq.";

    /// <summary>The unit's image in one array (a unit of up to about 2 GiB of state).</summary>
    public static byte[] Encode(ModelConfig config, int unitIndex, string unitName, long optimizerSteps,
        IReadOnlyList<(string GlobalName, WireTensor Parameter, WireTensor ExpAvg, WireTensor ExpAvgSq)> parameters) =>
        EncodeChunks(config, unitIndex, unitName, optimizerSteps, parameters, Array.MaxLength).ToArray();

    /// <summary>
    /// The unit's image in chunks of at most <paramref name="maxChunkBytes"/>: any size of state. The bytes are those of
    /// <see cref="Encode"/>, so a file written from them is the same file.
    /// </summary>
    public static ChunkedBytes EncodeChunks(ModelConfig config, int unitIndex, string unitName, long optimizerSteps,
        IReadOnlyList<(string GlobalName, WireTensor Parameter, WireTensor ExpAvg, WireTensor ExpAvgSq)> parameters,
        int maxChunkBytes = ChunkedBytes.DefaultChunkBytes)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var tensors = new List<KeyValuePair<string, WireTensor>>(parameters.Count * 3);
        foreach (var p in parameters) tensors.Add(new(p.GlobalName, p.Parameter));
        foreach (var p in parameters) tensors.Add(new(ExpAvgPrefix + p.GlobalName, p.ExpAvg));
        foreach (var p in parameters) tensors.Add(new(ExpAvgSqPrefix + p.GlobalName, p.ExpAvgSq));
        var metadata = new Dictionary<string, string>
        {
            ["format"] = Format,
            ["unit"] = unitName,
            ["unit_index"] = unitIndex.ToString(CultureInfo.InvariantCulture),
            ["optimizer_steps"] = optimizerSteps.ToString(CultureInfo.InvariantCulture),
            ["model"] = JsonSerializer.Serialize(config),
        };
        return SafeTensors.SerializeChunks(tensors, metadata, maxChunkBytes);
    }

    /// <summary>Parses an image and checks that it is the state of <paramref name="unitName"/> of this very model.</summary>
    public static (SafeTensorsContent Content, long OptimizerSteps) Decode(ModelConfig config, string unitName, byte[] image, string source) =>
        Decode(config, unitName, ChunkedBytes.Of(image ?? throw new ArgumentNullException(nameof(image))), source);

    /// <summary>Parses an image held in chunks (any size) and checks that it is the state of <paramref name="unitName"/> of this very model.</summary>
    public static (SafeTensorsContent Content, long OptimizerSteps) Decode(ModelConfig config, string unitName, ChunkedBytes image, string source)
    {
        var content = SafeTensors.Parse(image, source);
        // Every unit image this program wrote records a checksum of its data (XXH3-128, or SHA-256 before): one without
        // had its header damaged (a key renamed or cut), and its data could be damaged unseen.
        if (!content.Metadata.ContainsKey(SafeTensors.ChecksumKey) && !content.Metadata.ContainsKey(SafeTensors.Sha256ChecksumKey))
            throw new CheckpointCorruptException(source, $"it records no checksum of its data ('{SafeTensors.ChecksumKey}' or '{SafeTensors.Sha256ChecksumKey}' in its metadata): its header is damaged or it was not written as a unit's state.");
        string format = content.GetMetadata("format");
        if (format != Format)
            throw new CheckpointCorruptException(source, $"its format is '{format}', expected '{Format}'.");
        string unit = content.GetMetadata("unit");
        if (unit != unitName)
            throw new CheckpointCorruptException(source, $"it holds unit '{unit}', but '{unitName}' was asked for.");
        ModelConfig? stored;
        try
        {
            stored = JsonSerializer.Deserialize<ModelConfig>(content.GetMetadata("model"));
        }
        catch (JsonException e)
        {
            throw new CheckpointCorruptException(source, "its model config metadata is not valid JSON.", e);
        }
        if (stored != config)
            throw new CheckpointCorruptException(source, $"it was written for a different model ({stored}) than the one loading it ({config}).");
        if (!long.TryParse(content.GetMetadata("optimizer_steps"), NumberStyles.None, CultureInfo.InvariantCulture, out long steps))
            throw new CheckpointCorruptException(source, "its optimizer_steps metadata is not a non-negative integer.");
        return (content, steps);
    }
}
