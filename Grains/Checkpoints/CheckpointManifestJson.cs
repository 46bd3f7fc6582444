using System.Text.Json;
using System.Text.Json.Serialization;
using Cluster.Grains.Interfaces.Checkpoints;

namespace Cluster.Grains.Checkpoints;

/// <summary>
/// The manifest's on-disk / in-blob form: indented camelCase JSON that round-trips every field exactly (losses as
/// shortest round-trip doubles, NaN and infinities included; timestamps to the tick with their offset).
/// </summary>
public static class CheckpointManifestJson
{
    private static readonly JsonSerializerOptions s_options = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        // A diverged run can log a NaN loss; the manifest must still be writable and readable.
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        // A manifest with a null or missing field is corrupt, not a manifest with defaults.
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
    };

    public static byte[] Serialize(CheckpointManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        return JsonSerializer.SerializeToUtf8Bytes(manifest, s_options);
    }

    /// <summary>Parses a manifest; <see cref="JsonException"/> when the bytes are not a complete manifest.</summary>
    public static CheckpointManifest Deserialize(ReadOnlySpan<byte> utf8Json)
    {
        var manifest = JsonSerializer.Deserialize<CheckpointManifest>(utf8Json, s_options)
            ?? throw new JsonException("The manifest is JSON null.");
        // Elements of collections are not covered by the nullable checks above.
        if (manifest.UnitsPerStage is null || manifest.Shards.Any(s => s is null) || manifest.LossHistory is null)
            throw new JsonException("The manifest has null entries.");
        return manifest;
    }
}
