using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Cluster.Kernels.Checkpoint;
using Cluster.Kernels.Config;
using Cluster.Kernels.Model;
using Cluster.Kernels.Training;
using Cluster.Kernels.Wire;
using TorchSharp;

namespace Cluster.Kernels.Tests;

/// <summary>The safetensors codec follows the format and names the file in every error; unit files check their model.</summary>
public sealed class SafeTensorsTests : IDisposable
{
    private readonly string _directory = TinyModel.TempDirectory();

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static WireTensor Make(WireDType dtype, long[] shape, int seed) => TinyModel.RandomTensor(dtype, shape, seed);

    private static List<KeyValuePair<string, WireTensor>> SampleTensors() =>
    [
        new("weight", Make(WireDType.Float32, [2, 3], 1)),
        new("ids", Make(WireDType.Int64, [4], 2)),
        new("scalar", Make(WireDType.Float64, [], 3)),          // 0-d: one element, no dimensions
        new("empty", Make(WireDType.Float16, [0, 5], 4)),       // no elements, no bytes
        new("bytes", Make(WireDType.UInt8, [3, 1, 2], 5)),
        new("half.b", Make(WireDType.BFloat16, [2, 2], 6)),
        new("tokens", Make(WireDType.UInt16, [7], 7)),
        new("counts", Make(WireDType.Int32, [1, 1, 1, 3], 8)),
    ];

    private static readonly Dictionary<string, string> s_metadata = new() { ["format"] = "test", ["note"] = "ünïcode ✓" };

    /// <summary>Writes a valid image and returns its path and bytes.</summary>
    private (string Path, byte[] Image) WriteValid(string name = "valid.safetensors")
    {
        byte[] image = SafeTensors.Serialize(SampleTensors(), s_metadata);
        string path = Path.Combine(_directory, name);
        File.WriteAllBytes(path, image);
        return (path, image);
    }

    private static int HeaderLength(byte[] image) => checked((int)BinaryPrimitives.ReadUInt64LittleEndian(image));

    private static CheckpointCorruptException AssertCorrupt(string path)
    {
        var e = Assert.Throws<CheckpointCorruptException>(() => SafeTensors.Read(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Equal(path, e.Source);
        return e;
    }

    [Fact]
    public void Round_trip_preserves_names_order_dtypes_shapes_data_and_metadata()
    {
        var tensors = SampleTensors();
        var content = SafeTensors.Parse(SafeTensors.Serialize(tensors, s_metadata), "memory");

        Assert.Equal(tensors.Select(t => t.Key), content.Tensors.Select(t => t.Key));
        foreach (var (name, expected) in tensors)
        {
            var actual = content.Get(name);
            Assert.Equal(expected.DType, actual.DType);
            Assert.Equal(expected.Shape, actual.Shape);
            Assert.Equal(expected.Data, actual.Data);
        }
        Assert.Empty(content.Get("scalar").Shape);
        Assert.Equal(8, content.Get("scalar").Data.Length);
        Assert.Empty(content.Get("empty").Data);
        Assert.Equal("test", content.GetMetadata("format"));
        Assert.Equal("ünïcode ✓", content.GetMetadata("note"));
        Assert.Equal(32, content.GetMetadata(SafeTensors.ChecksumKey).Length);
        Assert.Equal(3, content.Metadata.Count);
    }

    [Fact]
    public void Missing_tensor_and_metadata_errors_name_the_source()
    {
        var content = SafeTensors.Parse(SafeTensors.Serialize(SampleTensors(), s_metadata), "some/file.safetensors");
        var tensor = Assert.Throws<CheckpointCorruptException>(() => content.Get("nope"));
        Assert.Contains("some/file.safetensors", tensor.Message, StringComparison.Ordinal);
        Assert.Contains("'nope'", tensor.Message, StringComparison.Ordinal);
        var metadata = Assert.Throws<CheckpointCorruptException>(() => content.GetMetadata("nope"));
        Assert.Contains("some/file.safetensors", metadata.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Header_is_padded_with_spaces_to_a_multiple_of_eight()
    {
        bool sawPadding = false;
        for (int extra = 0; extra < 8; extra++) // eight metadata lengths cover every residue mod 8
        {
            var metadata = new Dictionary<string, string> { ["pad"] = new string('x', extra) };
            byte[] image = SafeTensors.Serialize(SampleTensors(), metadata);
            int headerLength = HeaderLength(image);
            Assert.Equal(0, headerLength % 8);
            var header = image.AsSpan(8, headerLength);
            int jsonLength = header.LastIndexOf((byte)'}') + 1;
            Assert.True(headerLength - jsonLength < 8, $"{headerLength - jsonLength} bytes of padding");
            Assert.True(header[jsonLength..].IndexOfAnyExcept((byte)' ') < 0, "the padding must be spaces");
            sawPadding |= jsonLength < headerLength;
            using var _ = JsonDocument.Parse(header.ToArray()); // the padded header is valid JSON as a whole
        }
        Assert.True(sawPadding, "no metadata length needed padding, so padding was not tested");
    }

    [Fact]
    public void Header_json_has_dtype_shape_and_data_offsets_as_the_spec_says()
    {
        var tensors = SampleTensors();
        byte[] image = SafeTensors.Serialize(tensors, s_metadata);
        int headerLength = HeaderLength(image);
        int dataStart = 8 + headerLength;
        using var document = JsonDocument.Parse(image.AsMemory(8, headerLength));
        var root = document.RootElement;

        var metadata = root.GetProperty("__metadata__");
        Assert.Equal(JsonValueKind.Object, metadata.ValueKind);
        Assert.All(metadata.EnumerateObject(), m => Assert.Equal(JsonValueKind.String, m.Value.ValueKind));
        Assert.Equal("test", metadata.GetProperty("format").GetString());

        Assert.Equal(tensors.Count + 1, root.EnumerateObject().Count());
        var expectedNames = new Dictionary<WireDType, string>
        {
            [WireDType.Float32] = "F32", [WireDType.Int64] = "I64", [WireDType.Float64] = "F64", [WireDType.Float16] = "F16",
            [WireDType.UInt8] = "U8", [WireDType.BFloat16] = "BF16", [WireDType.UInt16] = "U16", [WireDType.Int32] = "I32",
        };
        long expectedBegin = 0;
        foreach (var (name, tensor) in tensors)
        {
            var entry = root.GetProperty(name);
            Assert.Equal(3, entry.EnumerateObject().Count());
            Assert.Equal(expectedNames[tensor.DType], entry.GetProperty("dtype").GetString());
            Assert.Equal(tensor.Shape, entry.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray());
            var offsets = entry.GetProperty("data_offsets").EnumerateArray().Select(d => d.GetInt64()).ToArray();
            // Offsets are [begin, end) relative to the start of the data section, which the tensors tile in order.
            Assert.Equal(new[] { expectedBegin, expectedBegin + tensor.Data.Length }, offsets);
            Assert.Equal(tensor.Data, image.AsSpan(dataStart + (int)offsets[0], (int)(offsets[1] - offsets[0])).ToArray());
            expectedBegin = offsets[1];
        }
        Assert.Equal(image.Length - dataStart, expectedBegin);
    }

    [Fact]
    public void File_cut_in_the_data_is_reported_as_truncated()
    {
        var (path, image) = WriteValid();
        File.WriteAllBytes(path, image[..^3]);
        var e = AssertCorrupt(path);
        Assert.Contains("truncated", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void File_cut_in_the_header_is_reported_as_truncated()
    {
        var (path, image) = WriteValid();
        File.WriteAllBytes(path, image[..(8 + HeaderLength(image) / 2)]);
        var e = AssertCorrupt(path);
        Assert.Contains("truncated", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    [InlineData(7)]
    public void File_shorter_than_the_length_field_is_reported_as_truncated(int length)
    {
        var (path, image) = WriteValid();
        File.WriteAllBytes(path, image[..length]);
        var e = AssertCorrupt(path);
        Assert.Contains($"{length} bytes long", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Flipped_data_byte_fails_the_checksum()
    {
        var (path, image) = WriteValid();
        image[8 + HeaderLength(image) + 5] ^= 0x10; // inside the first tensor's data
        File.WriteAllBytes(path, image);
        var e = AssertCorrupt(path);
        Assert.Contains("XXH3-128", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Garbage_header_json_is_reported()
    {
        var (path, image) = WriteValid();
        var garbage = Encoding.ASCII.GetBytes("{\"weight\": [1, 2, oops");
        image.AsSpan(8, HeaderLength(image)).Fill((byte)' ');
        garbage.CopyTo(image, 8);
        File.WriteAllBytes(path, image);
        var e = AssertCorrupt(path);
        Assert.Contains("not valid JSON", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Header_length_larger_than_the_file_is_reported()
    {
        var (path, image) = WriteValid();
        BinaryPrimitives.WriteUInt64LittleEndian(image, (ulong)image.Length);
        File.WriteAllBytes(path, image);
        var e = AssertCorrupt(path);
        Assert.Contains($"claims {image.Length} bytes", e.Message, StringComparison.Ordinal);

        BinaryPrimitives.WriteUInt64LittleEndian(image, ulong.MaxValue); // must not overflow into a negative length
        File.WriteAllBytes(path, image);
        AssertCorrupt(path);
    }

    [Fact]
    public void Missing_file_is_reported_with_its_path()
    {
        string path = Path.Combine(_directory, "absent.safetensors");
        var e = AssertCorrupt(path);
        Assert.Contains("does not exist", e.Message, StringComparison.Ordinal);
        Assert.IsType<FileNotFoundException>(e.InnerException);

        string inMissingDirectory = Path.Combine(_directory, "no-such-dir", "absent.safetensors");
        AssertCorrupt(inMissingDirectory);
    }

    /// <summary>Saves the state of the untrained tiny model (one file per unit) into <see cref="_directory"/>.</summary>
    private void SaveTinyModelState()
    {
        using var trainer = new ReferenceTrainer(TinyModel.Options(), TinyModel.Corpus);
        trainer.SaveState(_directory);
    }

    private static StageExecutor Stage(ModelConfig config, int stages, int stage) =>
        new(StagePlan.Balanced(config, stages), stage, TinyModel.Options().Optimizer, torch.CPU);

    [Fact]
    public void Stage_load_with_a_truncated_unit_file_names_that_file()
    {
        SaveTinyModelState();
        using var stage = Stage(TinyModel.Config, 2, 1);
        var (start, end) = stage.Plan.UnitRange(1);
        Assert.True(start + 1 < end, "the victim must belong to the loading stage");
        string victim = Path.Combine(_directory, ModelLayout.UnitName(TinyModel.Config, start + 1) + ".safetensors");
        var image = File.ReadAllBytes(victim);
        File.WriteAllBytes(victim, image[..(image.Length / 2)]);

        var e = Assert.Throws<CheckpointCorruptException>(() => stage.LoadState(_directory));
        Assert.Equal(victim, e.Source);
        Assert.Contains($"'{victim}'", e.Message, StringComparison.Ordinal);
        Assert.Contains("truncated", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Stage_load_with_a_missing_unit_file_names_that_file()
    {
        SaveTinyModelState();
        string victim = Path.Combine(_directory, "head.safetensors");
        File.Delete(victim);
        using var stage = Stage(TinyModel.Config, 2, 1);
        var e = Assert.Throws<CheckpointCorruptException>(() => stage.LoadState(_directory));
        Assert.Equal(victim, e.Source);
        Assert.Contains("does not exist", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Loading_files_written_for_a_different_model_is_refused()
    {
        SaveTinyModelState();
        var other = TinyModel.Config with { Seed = TinyModel.Config.Seed + 1 };
        using var stage = Stage(other, 2, 0);
        var e = Assert.Throws<CheckpointCorruptException>(() => stage.LoadState(_directory));
        Assert.Contains("different model", e.Message, StringComparison.Ordinal);
        Assert.Contains("embed.safetensors", e.Message, StringComparison.Ordinal);
    }
}
