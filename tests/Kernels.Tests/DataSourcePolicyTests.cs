using System.Diagnostics;
using System.Security.Cryptography;
using Cluster.Kernels.Data;

namespace Cluster.Kernels.Tests;

/// <summary>Jobs read only regular files under the data roots, decided from metadata alone; what they load is pinned by hash.</summary>
public sealed class DataSourcePolicyTests : IDisposable
{
    private readonly string _directory = TinyModel.TempDirectory();
    private readonly string _root;
    private readonly string _outside;
    private readonly DataSourcePolicy _policy;

    public DataSourcePolicyTests()
    {
        _root = Directory.CreateDirectory(Path.Combine(_directory, "data")).FullName;
        _outside = Directory.CreateDirectory(Path.Combine(_directory, "secrets")).FullName;
        _policy = new DataSourcePolicy([_root]);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Write(string directory, string name, byte[] bytes)
    {
        string path = Path.Combine(directory, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Theory]
    [InlineData("/proc/self/environ")]
    [InlineData("/dev/zero")]
    [InlineData("/dev/urandom")]
    [InlineData("/sys/kernel/mm/transparent_hugepage/enabled")]
    [InlineData("/etc/passwd")]
    public void System_files_are_refused_without_reading_them(string path)
    {
        foreach (var policy in new[] { _policy, new DataSourcePolicy(["/"]) }) // even a root of "/" never opens /proc, /sys or /dev
        {
            if (policy != _policy && path == "/etc/passwd") continue;
            var e = Assert.Throws<DataSourceRefusedException>(() => TokenSources.Load(path, policy));
            Assert.Contains($"'{path}'", e.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("=", e.Message.Replace("TrainingCluster:DataRoots", "", StringComparison.Ordinal), StringComparison.Ordinal); // nothing of the environment
        }
    }

    [Fact]
    public void Dot_dot_and_symbolic_links_out_of_the_root_are_refused()
    {
        string secret = Write(_outside, "key.txt", "secret-secret-secret"u8.ToArray());
        string viaDotDot = Path.Combine(_root, "..", "secrets", "key.txt");
        Assert.Contains("outside this silo's data roots", Assert.Throws<DataSourceRefusedException>(() => _policy.Check(viaDotDot)).Message, StringComparison.Ordinal);

        string fileLink = Path.Combine(_root, "innocent.txt");
        File.CreateSymbolicLink(fileLink, secret);
        var e = Assert.Throws<DataSourceRefusedException>(() => TokenSources.Load(fileLink, _policy));
        Assert.Contains(secret, e.Message, StringComparison.Ordinal); // names where the link leads…
        Assert.DoesNotContain("secret-secret", e.Message, StringComparison.Ordinal); // …never what it holds

        string dirLink = Path.Combine(_root, "sub");
        Directory.CreateSymbolicLink(dirLink, _outside); // a link in the middle of the path
        Assert.Throws<DataSourceRefusedException>(() => _policy.Check(Path.Combine(dirLink, "key.txt")));

        string relativeLink = Path.Combine(_root, "up");
        File.CreateSymbolicLink(relativeLink, "../secrets/key.txt");
        Assert.Throws<DataSourceRefusedException>(() => _policy.Check(relativeLink));

        string loop = Path.Combine(_root, "loop");
        File.CreateSymbolicLink(loop, loop);
        Assert.Throws<DataSourceRefusedException>(() => _policy.Check(loop));
    }

    [Fact]
    public void Links_that_stay_inside_the_root_and_dot_dot_back_into_it_are_allowed()
    {
        string real = Write(_root, "corpus.txt", new byte[64]);
        string link = Path.Combine(_root, "alias.txt");
        File.CreateSymbolicLink(link, "corpus.txt");
        Assert.Equal(real, _policy.Check(link).RealPath);
        Assert.Equal(real, _policy.Check(Path.Combine(_outside, "..", "data", "corpus.txt")).RealPath);
        Assert.Equal(64, TokenSources.Load(link, _policy).Source.Length);
    }

    [Fact]
    public void A_fifo_or_directory_in_the_root_is_refused_without_opening_it()
    {
        if (!OperatingSystem.IsLinux()) return;
        string fifo = Path.Combine(_root, "pipe.txt");
        using (var mkfifo = Process.Start(new ProcessStartInfo("mkfifo", fifo) { UseShellExecute = false })!)
            mkfifo.WaitForExit();
        Assert.True(File.Exists(fifo));
        // Opening a FIFO for reading blocks until a writer comes: a refusal here proves it was never opened.
        Assert.Contains("not a regular file", Assert.Throws<DataSourceRefusedException>(() => TokenSources.Load(fifo, _policy)).Message, StringComparison.Ordinal);
        Assert.Contains("not a regular file", Assert.Throws<DataSourceRefusedException>(() => _policy.Check(_root)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Files_above_the_size_cap_and_empty_files_are_refused()
    {
        string big = Write(_root, "big.txt", new byte[2048]);
        var small = new DataSourcePolicy([_root], maxBytes: 1024);
        var e = Assert.Throws<DataSourceRefusedException>(() => TokenSources.Load(big, small));
        Assert.Contains("2048 bytes", e.Message, StringComparison.Ordinal);
        Assert.Contains("1024", e.Message, StringComparison.Ordinal);
        Assert.Contains("empty", Assert.Throws<DataSourceRefusedException>(() => _policy.Check(Write(_root, "empty.txt", []))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_file_inside_the_root_is_file_not_found_and_outside_it_is_refused()
    {
        Assert.Throws<FileNotFoundException>(() => TokenSources.Load(Path.Combine(_root, "missing.txt"), _policy));
        // Outside the roots the answer is the same whether the file exists or not: nothing to probe with.
        var e = Assert.Throws<DataSourceRefusedException>(() => TokenSources.Load(Path.Combine(_outside, "missing.txt"), _policy));
        Assert.Contains("outside", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Identity_is_the_hash_of_the_bytes_and_a_pin_to_another_hash_names_both()
    {
        byte[] bytes = [.. Enumerable.Range(0, 300).Select(i => (byte)i)];
        string path = Write(_root, "tokens.bin", bytes);
        var loaded = TokenSources.Load(path, _policy);
        string sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
        Assert.Equal(new DataIdentity(300, sha), loaded.Identity);

        string pinned = DataSourceReference.Pin(path, loaded.Identity);
        Assert.Equal($"{path}@sha256:{sha}", pinned);
        Assert.Equal(150, TokenSources.Load(pinned, _policy).Source.Length);

        string other = new('a', 64);
        var e = Assert.Throws<DataIdentityMismatchException>(() => TokenSources.Load($"{path}@sha256:{other}", _policy));
        Assert.Contains(other, e.Message, StringComparison.Ordinal);
        Assert.Contains(sha, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Rewriting_a_token_file_in_place_does_not_touch_a_loaded_corpus()
    {
        string path = Write(_root, "train.bin", [.. Enumerable.Repeat((byte)1, 4096)]);
        var source = TokenSources.Load(path, _policy).Source;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Write))
            stream.SetLength(2); // truncated under the job: a memory-mapped reader would die of SIGBUS here
        var window = new long[100];
        source.Read(1000, window);
        Assert.All(window, t => Assert.Equal(0x0101, t));
    }
}
