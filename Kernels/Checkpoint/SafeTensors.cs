using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using System.Text.Json;
using Cluster.Kernels.Wire;

namespace Cluster.Kernels.Checkpoint;

/// <summary>
/// Reads and writes the safetensors format (an 8-byte little-endian header length, a JSON header, then the raw
/// tensors), so checkpoints open in Python's <c>safetensors</c>. We add a checksum of the data section under the
/// header's <c>__metadata__</c>, because the format itself cannot tell a flipped byte from a valid value.
/// <para>
/// The checksum is XXH3-128 (<see cref="ChecksumKey"/>): every step's in-memory snapshot of every stage is encoded here,
/// in the background of a CPU-bound step, and SHA-256 was most of that work. It guards against damage (a flipped bit, a
/// torn copy, a truncated transfer), not against a forger: durable checkpoints are also listed in their manifest by the
/// SHA-256 of the whole file (<c>ShardRecord.Sha256</c>), checked before the file is parsed. Images written before
/// (with a SHA-256 under <see cref="Sha256ChecksumKey"/>) still parse and are verified with it: <see cref="Parse(ChunkedBytes, string)"/>
/// verifies every checksum an image records, whichever it is.
/// </para>
/// </summary>
public static class SafeTensors
{
    /// <summary>The metadata key of the data section's XXH3-128 (lower-case hex of its canonical big-endian form, seed 0).</summary>
    public const string ChecksumKey = "xxh128";

    /// <summary>The metadata key of the data section's SHA-256 (lower-case hex), as images written before XXH3-128 recorded it.</summary>
    public const string Sha256ChecksumKey = "sha256";

    private const int MaxHeaderBytes = 100 * 1024 * 1024; // the reference implementation's own limit
    private const int MaxDimensions = 64;

    /// <summary>Serialises tensors (in the given order) and metadata into one safetensors image held in one array.</summary>
    public static byte[] Serialize(IReadOnlyList<KeyValuePair<string, WireTensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        long dataLength = tensors.Sum(t => t.Value.ByteLength);
        if (dataLength > Array.MaxLength) // checked before allocating gigabytes for nothing
            throw new ArgumentException($"The tensors hold {dataLength} bytes, more than one array holds ({Array.MaxLength}): use SerializeChunks.", nameof(tensors));
        var image = SerializeChunks(tensors, metadata, Array.MaxLength);
        if (image.Chunks.Count != 1)
            throw new ArgumentException($"The tensors make a safetensors image of {image.Length} bytes, more than one array holds ({Array.MaxLength}): use SerializeChunks.", nameof(tensors));
        return image.Chunks[0];
    }

    /// <summary>
    /// Serialises tensors (in the given order) and metadata into one safetensors image cut into chunks of at most
    /// <paramref name="maxChunkBytes"/>: the bytes are those of the one-array image, so the file written from the chunks
    /// is the same file, and an image of any size can be made (a unit whose state is over 2 GiB).
    /// </summary>
    public static ChunkedBytes SerializeChunks(IReadOnlyList<KeyValuePair<string, WireTensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null,
        int maxChunkBytes = ChunkedBytes.DefaultChunkBytes)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var names = new HashSet<string>(StringComparer.Ordinal);
        long dataLength = 0;
        var hash = new XxHash128();
        foreach (var (name, tensor) in tensors)
        {
            if (string.IsNullOrEmpty(name) || name == "__metadata__" || !names.Add(name))
                throw new ArgumentException($"Tensor name '{name}' is empty, reserved or repeated.", nameof(tensors));
            foreach (var chunk in tensor.Chunks) hash.Append(chunk);
            dataLength += tensor.ByteLength;
        }
        string checksum = Convert.ToHexStringLower(hash.GetCurrentHash());

        using var headerStream = new MemoryStream();
        using (var json = new Utf8JsonWriter(headerStream))
        {
            json.WriteStartObject();
            json.WriteStartObject("__metadata__");
            if (metadata is not null)
                foreach (var (key, value) in metadata.Where(kv => kv.Key is not (ChecksumKey or Sha256ChecksumKey)).OrderBy(kv => kv.Key, StringComparer.Ordinal))
                    json.WriteString(key, value);
            json.WriteString(ChecksumKey, checksum);
            json.WriteEndObject();
            long offset = 0;
            foreach (var (name, tensor) in tensors)
            {
                json.WriteStartObject(name);
                json.WriteString("dtype", WireDTypes.SafeTensorsName(tensor.DType));
                json.WriteStartArray("shape");
                foreach (long dim in tensor.Shape) json.WriteNumberValue(dim);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + tensor.ByteLength);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += tensor.ByteLength;
            }
            json.WriteEndObject();
        }
        int headerLength = (int)headerStream.Length;
        int paddedHeader = (headerLength + 7) / 8 * 8; // the format pads the header with spaces to an 8-byte boundary
        long imageLength = 8 + paddedHeader + dataLength;
        var writer = new ChunkWriter(ChunkedBytes.Allocate(imageLength, maxChunkBytes));
        Span<byte> lengthField = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(lengthField, (ulong)paddedHeader);
        writer.Write(lengthField);
        writer.Write(headerStream.GetBuffer().AsSpan(0, headerLength));
        for (int i = headerLength; i < paddedHeader; i++) writer.Write(" "u8);
        foreach (var (_, tensor) in tensors)
            foreach (var chunk in tensor.Chunks)
                writer.Write(chunk);
        return writer.Done();
    }

    /// <summary>Parses and verifies a safetensors image; <paramref name="source"/> names it in every error.</summary>
    public static SafeTensorsContent Parse(byte[] image, string source) => Parse(ChunkedBytes.Of(image ?? throw new ArgumentNullException(nameof(image))), source);

    /// <summary>Parses and verifies a safetensors image held in chunks (of any total size); <paramref name="source"/> names it in every error.</summary>
    public static SafeTensorsContent Parse(ChunkedBytes image, string source)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.Length < 8)
            throw new CheckpointCorruptException(source, $"it is {image.Length} bytes long, shorter than the 8-byte safetensors header length: the file is truncated.");
        Span<byte> lengthField = stackalloc byte[8];
        image.CopyTo(0, lengthField);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthField);
        if (headerLength > MaxHeaderBytes || headerLength > (ulong)(image.Length - 8))
            throw new CheckpointCorruptException(source, $"its header claims {headerLength} bytes but the file holds {image.Length - 8} after the length field: the file is truncated or not a safetensors file.");
        long dataStart = 8 + (long)headerLength;

        JsonDocument document;
        try
        {
            var header = new byte[headerLength];
            image.CopyTo(8, header);
            document = JsonDocument.Parse(header);
        }
        catch (JsonException e)
        {
            throw new CheckpointCorruptException(source, $"its header is not valid JSON ({e.Message}).", e);
        }

        using (document)
        {
            try
            {
                return ParseHeader(document, image, dataStart, source);
            }
            catch (InvalidOperationException e)
            {
                // JsonDocument validates structure lazily for strings: invalid UTF-8 surfaces when a name or value is read.
                throw new CheckpointCorruptException(source, $"its header holds text that is not valid UTF-8 ({e.Message}).", e);
            }
        }
    }

    private static SafeTensorsContent ParseHeader(JsonDocument document, ChunkedBytes image, long dataStart, string source)
    {
        if (document.RootElement.ValueKind != JsonValueKind.Object)
            throw new CheckpointCorruptException(source, "its header is not a JSON object.");
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var tensors = new List<KeyValuePair<string, WireTensor>>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        long dataLength = image.Length - dataStart;
        var ranges = new List<(long Begin, long End, string Name)>();
        foreach (var property in document.RootElement.EnumerateObject())
        {
            // JSON allows a key twice; the format does not, and a reader must not pick one copy silently.
            if (!names.Add(property.Name))
                throw new CheckpointCorruptException(source, $"its header names '{Shorten(property.Name)}' twice.");
            if (property.Name == "__metadata__")
            {
                ReadMetadata(property.Value, metadata, source);
                continue;
            }
            var (dtype, shape, begin, end) = ReadEntry(property, source);
            if (begin < 0 || end < begin || end > dataLength)
                throw new CheckpointCorruptException(source, $"tensor '{Shorten(property.Name)}' spans bytes [{begin}, {end}) but the data section is {dataLength} bytes: the file is truncated.");
            long elements = 1, needed;
            try
            {
                foreach (long dim in shape) elements = checked(elements * dim);
                needed = checked(elements * WireDTypes.ElementSize(dtype));
            }
            catch (OverflowException)
            {
                throw new CheckpointCorruptException(source, $"tensor '{Shorten(property.Name)}' has a shape whose size overflows 64 bits.");
            }
            if (needed != end - begin)
                throw new CheckpointCorruptException(source, $"tensor '{Shorten(property.Name)}' is {end - begin} bytes, but {dtype}[{string.Join(", ", shape)}] needs {needed}.");
            ranges.Add((begin, end, property.Name));
            tensors.Add(new(property.Name, CopyTensor(image, dataStart + begin, dtype, shape, end - begin)));
        }

        // The format requires the tensors to tile the data section exactly, with no holes or overlaps.
        ranges.Sort((a, b) => a.Begin.CompareTo(b.Begin));
        long expected = 0;
        foreach (var (begin, end, name) in ranges)
        {
            if (begin != expected)
                throw new CheckpointCorruptException(source, $"tensor '{Shorten(name)}' starts at byte {begin} of the data section, expected {expected}: tensors overlap or leave a hole.");
            expected = end;
        }
        if (expected != dataLength)
            throw new CheckpointCorruptException(source, $"the data section is {dataLength} bytes but the tensors cover {expected}: the file has trailing bytes or is damaged.");

        Verify(metadata, ChecksumKey, "XXH3-128 checksum", () => image.Xxh128Hex(dataStart), source);
        Verify(metadata, Sha256ChecksumKey, "SHA-256", () => image.Sha256Hex(dataStart), source);
        return new SafeTensorsContent(source, metadata, tensors);
    }

    /// <summary>Checks the data against the checksum recorded under <paramref name="key"/>, when the image records one.</summary>
    private static void Verify(Dictionary<string, string> metadata, string key, string algorithm, Func<string> computeHex, string source)
    {
        if (!metadata.TryGetValue(key, out var recorded)) return;
        string actual = computeHex();
        if (!string.Equals(actual, recorded, StringComparison.Ordinal))
            throw new CheckpointCorruptException(source, $"its data does not match the recorded {algorithm} (expected {Shorten(recorded[..Math.Min(12, recorded.Length)])}…, found {actual[..12]}…): the file is corrupt.");
    }

    /// <summary>Copies a tensor's bytes out of the image into wire chunks (whole elements each), across image chunk boundaries.</summary>
    private static WireTensor CopyTensor(ChunkedBytes image, long offset, WireDType dtype, long[] shape, long length)
    {
        var chunks = WireChunks.Allocate(length, WireDTypes.ElementSize(dtype));
        foreach (var chunk in chunks)
        {
            image.CopyTo(offset, chunk);
            offset += chunk.Length;
        }
        return WireTensor.FromChunks(dtype, shape, chunks);
    }

    /// <summary>Fills pre-allocated chunks in order; <see cref="Done"/> checks every byte was written.</summary>
    private sealed class ChunkWriter(byte[][] chunks)
    {
        private int _chunk;
        private int _at;

        public void Write(ReadOnlySpan<byte> bytes)
        {
            while (!bytes.IsEmpty)
            {
                var target = chunks[_chunk];
                int take = Math.Min(target.Length - _at, bytes.Length);
                if (take == 0)
                    throw new InvalidOperationException("The safetensors image overflows its computed length.");
                bytes[..take].CopyTo(target.AsSpan(_at));
                bytes = bytes[take..];
                _at += take;
                if (_at == target.Length && _chunk < chunks.Length - 1)
                {
                    _chunk++;
                    _at = 0;
                }
            }
        }

        public ChunkedBytes Done()
        {
            if (chunks.Length > 0 && (_chunk != chunks.Length - 1 || _at != chunks[^1].Length))
                throw new InvalidOperationException("The safetensors image was not filled: its length was computed wrong.");
            return new ChunkedBytes(chunks);
        }
    }

    /// <summary>Reads and verifies a safetensors file (of any size: it is read in chunks).</summary>
    public static SafeTensorsContent Read(string path)
    {
        ChunkedBytes image;
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            image = ChunkedBytes.Read(file, file.Length);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new CheckpointCorruptException(path, "the file does not exist.", e);
        }
        return Parse(image, path);
    }

    private static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata, string source)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new CheckpointCorruptException(source, "its __metadata__ is not an object of strings.");
        foreach (var entry in value.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.String)
                throw new CheckpointCorruptException(source, $"metadata '{Shorten(entry.Name)}' is not a string.");
            if (!metadata.TryAdd(entry.Name, entry.Value.GetString()!))
                throw new CheckpointCorruptException(source, $"metadata '{Shorten(entry.Name)}' appears twice.");
        }
    }

    private static (WireDType DType, long[] Shape, long Begin, long End) ReadEntry(JsonProperty property, string source)
    {
        string name = Shorten(property.Name);
        try
        {
            var value = property.Value;
            if (value.ValueKind != JsonValueKind.Object)
                throw new CheckpointCorruptException(source, $"tensor '{name}' is described by a JSON {value.ValueKind}, not an object.");
            string dtypeName = value.GetProperty("dtype").GetString() ?? "";
            if (!WireDTypes.TryParseSafeTensorsName(dtypeName, out var dtype))
                throw new CheckpointCorruptException(source, $"tensor '{name}' has dtype '{Shorten(dtypeName)}', which this reader does not support.");
            var shapeElement = value.GetProperty("shape");
            if (shapeElement.ValueKind != JsonValueKind.Array || shapeElement.GetArrayLength() > MaxDimensions)
                throw new CheckpointCorruptException(source, $"tensor '{name}' has a shape that is not an array of at most {MaxDimensions} dimensions.");
            long[] shape = [.. shapeElement.EnumerateArray().Select(e => e.GetInt64())];
            if (shape.Any(d => d < 0))
                throw new CheckpointCorruptException(source, $"tensor '{name}' has a negative dimension.");
            var offsetsElement = value.GetProperty("data_offsets");
            if (offsetsElement.ValueKind != JsonValueKind.Array || offsetsElement.GetArrayLength() != 2)
                throw new CheckpointCorruptException(source, $"tensor '{name}' needs data_offsets of exactly 2 numbers.");
            long[] offsets = [.. offsetsElement.EnumerateArray().Select(e => e.GetInt64())];
            return (dtype, shape, offsets[0], offsets[1]);
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new CheckpointCorruptException(source, $"tensor '{name}' has a malformed header entry ({e.Message}).", e);
        }
    }

    /// <summary>A name from the file for a message: at most 80 characters, control characters as '?'.</summary>
    private static string Shorten(string value) =>
        new([.. value.Take(80).Select(c => char.IsControl(c) ? '?' : c)]);
}
