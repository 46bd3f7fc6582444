using Cluster.Kernels.Data;
using CsCheck;

namespace Cluster.Kernels.Tests;

/// <summary>Whatever a token file holds and whatever sizes a job asks for, loading and sampling end in batches or in a clear error.</summary>
public sealed class HostileTokenFileTests : IDisposable
{
    private readonly string _directory = TinyModel.TempDirectory();
    private readonly DataSourcePolicy _policy;
    private int _files;

    public HostileTokenFileTests() => _policy = new DataSourcePolicy([_directory], maxBytes: 4096);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Random_token_files_load_and_sample_or_fail_clearly() =>
        Gen.Select(Gen.Byte.Array[0, 5000], Gen.Bool, Gen.Int[1, 64], Gen.Int[1, 8], Gen.Int[1, 70_000], Gen.Long, Gen.Int[0, 1000])
            .Sample(c =>
            {
                var (bytes, asBin, context, rows, vocab, seed, step) = c;
                string path = Path.Combine(_directory, $"f{Interlocked.Increment(ref _files)}{(asBin ? ".bin" : ".txt")}");
                File.WriteAllBytes(path, bytes);
                try
                {
                    var source = TokenSources.Load(path, _policy).Source;
                    var batch = new BatchSampler(source, context, rows, seed, vocab).Sample(step, 0);
                    Assert.Equal(rows * context, batch.Inputs.Length);
                    Assert.All(batch.Inputs, t => Assert.InRange(t, 0, vocab - 1));
                }
                catch (DataSourceRefusedException e)
                {
                    Assert.Contains(path, e.Message, StringComparison.Ordinal); // empty, odd-sized or over the cap
                }
                catch (InvalidDataException e)
                {
                    Assert.Contains("outside the model's vocabulary", e.Message, StringComparison.Ordinal);
                }
                catch (ArgumentException e)
                {
                    Assert.Contains("fewer than context length + 1", e.Message, StringComparison.Ordinal);
                }
                finally
                {
                    File.Delete(path);
                }
            }, iter: 1500, threads: 1);

    [Fact]
    public void Hostile_source_strings_are_refused_without_an_unexpected_exception() =>
        Gen.OneOf(Gen.String, Gen.Const("../../../../etc/shadow"), Gen.Const("/proc/self/mem"), Gen.Const("synthetic@sha256:" + new string('0', 64)),
                Gen.Const("\0"), Gen.Const(new string('/', 5000)), Gen.Const("a/../../b/./c//d"), Gen.Const("x@sha256:zz"))
            .Sample(source =>
            {
                try
                {
                    TokenSources.Load(source, _policy);
                }
                catch (Exception e) when (e is DataSourceRefusedException or FileNotFoundException or DataIdentityMismatchException or ArgumentException)
                {
                    Assert.False(string.IsNullOrWhiteSpace(e.Message));
                }
            }, iter: 1000);
}
