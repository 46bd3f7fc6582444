using Cluster.Kernels.Wire;

namespace Cluster.Kernels.Checkpoint;

/// <summary>The verified contents of one safetensors image: metadata and tensors in file order.</summary>
public sealed class SafeTensorsContent
{
    private readonly Dictionary<string, WireTensor> _byName;

    public SafeTensorsContent(string source, IReadOnlyDictionary<string, string> metadata, IReadOnlyList<KeyValuePair<string, WireTensor>> tensors)
    {
        Source = source;
        Metadata = metadata;
        Tensors = tensors;
        _byName = tensors.ToDictionary(t => t.Key, t => t.Value, StringComparer.Ordinal);
    }

    public string Source { get; }

    public IReadOnlyDictionary<string, string> Metadata { get; }

    public IReadOnlyList<KeyValuePair<string, WireTensor>> Tensors { get; }

    /// <summary>The named tensor; a clear error naming the file when it is missing.</summary>
    public WireTensor Get(string name) =>
        _byName.TryGetValue(name, out var tensor) ? tensor
            : throw new CheckpointCorruptException(Source, $"tensor '{name}' is missing (the file holds {_byName.Count} tensors).");

    /// <summary>The metadata value; a clear error naming the file when it is missing.</summary>
    public string GetMetadata(string key) =>
        Metadata.TryGetValue(key, out var value) ? value
            : throw new CheckpointCorruptException(Source, $"metadata '{key}' is missing.");
}
