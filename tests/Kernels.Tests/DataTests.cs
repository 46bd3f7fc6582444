using System.Buffers.Binary;
using Cluster.Kernels.Data;
using Cluster.Kernels.Training;

namespace Cluster.Kernels.Tests;

/// <summary>Batches are pure functions of (seed, step, micro-batch); corpora and token files load or fail clearly.</summary>
public sealed class DataTests : IDisposable
{
    private readonly string _directory = TinyModel.TempDirectory();

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>A corpus whose token at position k is k itself, so a window shows where it came from.</summary>
    private sealed class PositionTokenSource(long length) : ITokenSource
    {
        public string Name => $"positions({length})";

        public long Length => length;

        public void Read(long start, Span<long> destination)
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThan(start + destination.Length, Length);
            for (int i = 0; i < destination.Length; i++) destination[i] = start + i;
        }
    }

    private static BatchSampler TinySampler(long dataSeed = 99) =>
        new(TinyModel.Corpus, TinyModel.Config.ContextLength, microBatchSize: 4, dataSeed, TinyModel.Config.VocabSize);

    private static void AssertSame(MicroBatch expected, MicroBatch actual)
    {
        Assert.Equal(expected.Rows, actual.Rows);
        Assert.Equal(expected.Columns, actual.Columns);
        Assert.Equal(expected.Inputs, actual.Inputs);
        Assert.Equal(expected.Targets, actual.Targets);
    }

    [Fact]
    public void Sample_is_a_pure_function_of_step_and_micro_batch()
    {
        var sampler = TinySampler();
        var first = sampler.Sample(7, 2);
        sampler.Sample(3, 0); // an unrelated draw in between must not change anything (no cursor, no RNG state)
        AssertSame(first, sampler.Sample(7, 2));
        AssertSame(first, TinySampler().Sample(7, 2)); // nor does a fresh sampler

        Assert.NotEqual(first.Inputs, sampler.Sample(8, 2).Inputs);
        Assert.NotEqual(first.Inputs, sampler.Sample(7, 3).Inputs);
        Assert.NotEqual(first.Inputs, TinySampler(dataSeed: 100).Sample(7, 2).Inputs);
    }

    [Fact]
    public void Targets_are_the_inputs_shifted_by_one_within_the_corpus()
    {
        const int context = 16, rows = 8;
        var corpus = new PositionTokenSource(1000);
        var sampler = new BatchSampler(corpus, context, rows, dataSeed: 5, vocabSize: 1000);
        for (int step = 0; step < 20; step++)
        {
            var batch = sampler.Sample(step, step % 3);
            Assert.Equal((rows, context), (batch.Rows, batch.Columns));
            Assert.Equal(rows * context, batch.Inputs.Length);
            Assert.Equal(rows * context, batch.Targets.Length);
            for (int row = 0; row < rows; row++)
            {
                long start = batch.Inputs[row * context];
                Assert.InRange(start, 0, corpus.Length - context - 1);
                for (int i = 0; i < context; i++)
                {
                    Assert.Equal(start + i, batch.Inputs[row * context + i]);
                    Assert.Equal(start + i + 1, batch.Targets[row * context + i]);
                }
            }
        }

        // The same on real text: every target is the next input of its row.
        var text = TinySampler().Sample(0, 0);
        for (int row = 0; row < text.Rows; row++)
            for (int i = 0; i + 1 < text.Columns; i++)
                Assert.Equal(text.Inputs[row * text.Columns + i + 1], text.Targets[row * text.Columns + i]);
    }

    [Fact]
    public void Replica_sample_equals_the_global_micro_batch_sample()
    {
        var sampler = TinySampler();
        const int perReplica = 3;
        for (int replica = 0; replica < 3; replica++)
            for (int micro = 0; micro < perReplica; micro++)
                AssertSame(sampler.Sample(11, replica * perReplica + micro), sampler.Sample(11, replica, micro, perReplica));
    }

    [Fact]
    public void Resumed_reference_run_matches_an_uninterrupted_one_bit_identically()
    {
        var options = TinyModel.Options(steps: 10);
        List<double> uninterrupted;
        using (var reference = new ReferenceTrainer(options, TinyModel.Corpus))
            uninterrupted = Enumerable.Range(0, 10).Select(_ => reference.TrainStep().Loss).ToList();

        string directory = Path.Combine(_directory, "checkpoint");
        var resumed = new List<double>();
        using (var first = new ReferenceTrainer(options, TinyModel.Corpus))
        {
            resumed.AddRange(Enumerable.Range(0, 5).Select(_ => first.TrainStep().Loss));
            first.SaveState(directory);
        }
        using (var second = new ReferenceTrainer(options, TinyModel.Corpus))
        {
            second.LoadState(directory);
            Assert.Equal(5, second.CompletedSteps);
            resumed.AddRange(Enumerable.Range(0, 5).Select(_ => second.TrainStep().Loss));
        }

        BitAssert.Equal(uninterrupted, resumed, "losses of 5 + 5 resumed steps vs 10 uninterrupted steps");
    }

    [Fact]
    public void Synthetic_corpus_is_deterministic_ascii_and_exactly_the_requested_size()
    {
        foreach (int size in new[] { 1, 1000, 12_345 })
        {
            var a = SyntheticCorpus.Generate(seed: 11, bytes: size);
            Assert.Equal(size, a.Length);
            Assert.Equal(a, SyntheticCorpus.Generate(seed: 11, bytes: size));
            Assert.True(a.AsSpan().IndexOfAnyInRange((byte)0x80, (byte)0xFF) < 0, "the corpus must be ASCII");
        }
        var big = SyntheticCorpus.Generate(seed: 11, bytes: 12_345);
        Assert.NotEqual(big, SyntheticCorpus.Generate(seed: 12, bytes: 12_345));
        Assert.Equal(big.AsSpan(0, 1000).ToArray(), SyntheticCorpus.Generate(seed: 11, bytes: 1000)); // a prefix of the same text
        Assert.Contains(" plus ", System.Text.Encoding.ASCII.GetString(big), StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => SyntheticCorpus.Generate(seed: 1, bytes: 0));
    }

    private string WriteTokenFile(string name, IReadOnlyList<ushort> tokens)
    {
        var bytes = new byte[tokens.Count * 2];
        for (int i = 0; i < tokens.Count; i++) BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(i * 2), tokens[i]);
        string path = Path.Combine(_directory, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void Uint16_token_file_is_read_little_endian()
    {
        ushort[] tokens = [0, 1, 255, 256, 1000, 0x1234, 65535, 42];
        string path = WriteTokenFile("train.bin", tokens);
        var source = Uint16TokenSource.Open(path);
        Assert.Equal(tokens.Length, source.Length);
        Assert.Equal(path, source.Name);

        var all = new long[tokens.Length];
        source.Read(0, all);
        Assert.Equal(tokens.Select(t => (long)t), all);
        var middle = new long[3];
        source.Read(3, middle);
        Assert.Equal(new long[] { 256, 1000, 0x1234 }, middle);
        Assert.ThrowsAny<ArgumentException>(() => source.Read(6, new long[3]));
    }

    [Theory]
    [InlineData(7)]
    [InlineData(0)]
    public void Uint16_token_file_of_odd_or_zero_size_is_refused_naming_the_file(int bytes)
    {
        string path = Path.Combine(_directory, $"broken{bytes}.bin");
        File.WriteAllBytes(path, new byte[bytes]);
        var e = Assert.Throws<DataSourceRefusedException>(() => Uint16TokenSource.Open(path));
        Assert.Contains($"'{path}'", e.Message, StringComparison.Ordinal);
        Assert.Contains(bytes == 0 ? "empty" : $"{bytes} bytes", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Token_id_outside_the_vocabulary_is_reported_naming_the_corpus()
    {
        // Every token is 300, above a byte-level vocabulary of 256.
        string path = WriteTokenFile("wide.bin", Enumerable.Repeat((ushort)300, 100).ToArray());
        var source = Uint16TokenSource.Open(path);
        var sampler = new BatchSampler(source, contextLength: 8, microBatchSize: 2, dataSeed: 1, vocabSize: 256);
        var e = Assert.Throws<InvalidDataException>(() => sampler.Sample(0, 0));
        Assert.Contains($"'{path}'", e.Message, StringComparison.Ordinal);
        Assert.Contains("outside the model's vocabulary of 256", e.Message, StringComparison.Ordinal);
        // A message never quotes file content. The path is removed first: its random directory name may hold "300".
        Assert.DoesNotContain("300", e.Message.Replace(path, "", StringComparison.Ordinal), StringComparison.Ordinal);

        var wide = new BatchSampler(source, contextLength: 8, microBatchSize: 2, dataSeed: 1, vocabSize: 301);
        Assert.All(wide.Sample(0, 0).Inputs, t => Assert.Equal(300, t));
    }

    [Fact]
    public void Corpus_shorter_than_context_plus_one_is_refused_clearly()
    {
        var e = Assert.Throws<ArgumentException>(() => new BatchSampler(new PositionTokenSource(16), 16, 1, 0, 100));
        Assert.Contains("'positions(16)'", e.Message, StringComparison.Ordinal);
        Assert.Contains("16 tokens", e.Message, StringComparison.Ordinal);
        Assert.Contains("context length + 1 = 17", e.Message, StringComparison.Ordinal);

        // Exactly context + 1 tokens is enough: the only window is the whole corpus.
        var batch = new BatchSampler(new PositionTokenSource(17), 16, 2, 0, 100).Sample(3, 1);
        Assert.Equal(Enumerable.Range(0, 16).Select(i => (long)i), batch.Inputs.Take(16));
        Assert.Equal(Enumerable.Range(1, 16).Select(i => (long)i), batch.Targets.Take(16));
    }

    [Fact]
    public void Opening_a_missing_data_file_names_the_path()
    {
        foreach (string name in new[] { "missing.bin", "missing.txt" })
        {
            string path = Path.Combine(_directory, name);
            var e = Assert.Throws<FileNotFoundException>(() => TokenSources.Open(path));
            Assert.Contains($"'{path}'", e.Message, StringComparison.Ordinal);
            Assert.Equal(path, e.FileName);
        }
    }

    [Fact]
    public void Token_sources_open_by_extension()
    {
        string bin = WriteTokenFile("tokens.bin", [1, 2, 3, 4]);
        var fromBin = TokenSources.Open(bin);
        Assert.IsType<Uint16TokenSource>(fromBin);
        Assert.Equal(4, fromBin.Length);

        string text = Path.Combine(_directory, "tokens.txt");
        File.Copy(bin, text); // the same 8 bytes, read as text: 8 byte tokens instead of 4 uint16 ones
        var fromText = TokenSources.Open(text);
        Assert.IsType<ByteTokenSource>(fromText);
        Assert.Equal(8, fromText.Length);

        Assert.StartsWith("synthetic", TokenSources.Open(TokenSources.Synthetic).Name, StringComparison.Ordinal);
    }
}
