using Cluster.Grains.Compute;
using Cluster.Grains.Hosting;
using Cluster.Kernels.Data;
using Microsoft.Extensions.Options;

namespace Cluster.Grains.Tests;

/// <summary>A silo's corpora: only from its data roots, pinned by hash on request, and evicted once no stage holds them.</summary>
public sealed class TokenSourceCacheTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "cluster-tests", "corpora-" + Guid.NewGuid().ToString("N"));

    public TokenSourceCacheTests() => Directory.CreateDirectory(_directory);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private TokenSourceCache Cache(params string[] roots) =>
        new(Options.Create(new TrainingClusterOptions { DataRoot = Path.Combine(_directory, "silo"), DataRoots = [.. roots] }));

    private string Corpus(string relative, int bytes = 4096)
    {
        string path = Path.Combine(_directory, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, [.. Enumerable.Range(0, bytes).Select(i => (byte)(i % 251))]);
        return path;
    }

    [Fact]
    public void Without_data_roots_only_the_silo_data_folder_is_readable()
    {
        var cache = Cache();
        Assert.Equal(4096, cache.Get(Corpus("silo/corpus.txt")).Length);
        var e = Assert.Throws<DataSourceRefusedException>(() => cache.Get(Corpus("elsewhere/corpus.txt")));
        Assert.Contains("TrainingCluster:DataRoots", e.Message, StringComparison.Ordinal);
        Assert.Null(cache.ProblemWith(Path.Combine(_directory, "silo", "corpus.txt")));
        Assert.Null(cache.ProblemWith("synthetic"));
    }

    [Fact]
    public void Configured_data_roots_replace_the_default()
    {
        var cache = Cache(Path.Combine(_directory, "datasets"));
        Assert.Equal(4096, cache.Get(Corpus("datasets/a/corpus.txt")).Length);
        Assert.NotNull(cache.ProblemWith(Corpus("silo/corpus.txt")));
    }

    [Theory]
    [InlineData("/proc/self/environ")]
    [InlineData("/dev/zero")]
    [InlineData("/sys/kernel/notes")]
    public void System_files_are_refused_with_a_problem_naming_the_rule(string path)
    {
        string? problem = Cache("/").ProblemWith(path);
        Assert.NotNull(problem);
        Assert.Contains("/proc, /sys or /dev", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_pin_to_another_hash_fails_naming_both_and_the_own_pin_loads()
    {
        var cache = Cache();
        string path = Corpus("silo/tokens.bin");
        string pinned = cache.Pin(path);
        Assert.Matches("@sha256:[0-9a-f]{64}$", pinned);
        Assert.Equal(2048, cache.Get(pinned).Length);

        File.WriteAllBytes(path, new byte[4096]); // another silo's copy, or the file rewritten since the job started
        var e = Assert.Throws<DataIdentityMismatchException>(() => cache.Get(pinned));
        Assert.Contains(pinned[(pinned.IndexOf('@', StringComparison.Ordinal) + 8)..], e.Message, StringComparison.Ordinal);
        Assert.Contains(e.Actual.Sha256, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_corpus_is_shared_while_held_and_evicted_once_no_stage_holds_it()
    {
        var cache = Cache();
        string path = Corpus("silo/corpus.txt");
        SharedWhileHeld(cache, path);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Assert.Equal(0, cache.LoadedCount);
        Assert.Equal(4096, cache.Get(path).Length); // a later job loads it afresh
    }

    /// <summary>Holds the corpus only in this frame (not inlined), so nothing keeps it alive once it returns.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void SharedWhileHeld(TokenSourceCache cache, string path)
    {
        var held = cache.Get(path);
        Assert.Same(held, cache.Get(path));
        Assert.Equal(1, cache.LoadedCount);
    }
}
