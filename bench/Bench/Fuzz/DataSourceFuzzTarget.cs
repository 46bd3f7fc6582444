using Cluster.Kernels.Data;

namespace Cluster.Bench.Fuzz;

/// <summary>Data source strings a client may send: traversal, system files, links, pins, junk. Promise: loaded from the root, or refused.</summary>
internal sealed class DataSourceFuzzTarget : IFuzzTarget
{
    private static readonly string[] s_pieces = ["..", ".", "", "proc", "self", "environ", "dev", "zero", "sys", "etc", "passwd", "corpus.txt", "tokens.bin", "link", "loop", "@sha256:", new('0', 64), "synthetic", "\0", "%2e%2e", "~", "\\"];
    private readonly string _root;
    private readonly DataSourcePolicy _policy;

    public DataSourceFuzzTarget(string root)
    {
        _root = root;
        _policy = new DataSourcePolicy([root], maxBytes: 1 << 16);
        File.WriteAllBytes(Path.Combine(root, "corpus.txt"), new byte[256]);
        File.WriteAllBytes(Path.Combine(root, "tokens.bin"), new byte[256]);
        File.CreateSymbolicLink(Path.Combine(root, "link"), "/etc");
        File.CreateSymbolicLink(Path.Combine(root, "loop"), Path.Combine(root, "loop"));
    }

    public string Name => "data-sources";

    public bool Run(Random random)
    {
        var parts = Enumerable.Range(0, 1 + random.Next(8)).Select(_ => s_pieces[random.Next(s_pieces.Length)]);
        string source = random.Next(3) switch
        {
            0 => "/" + string.Join('/', parts),
            1 => Path.Combine(_root, string.Join('/', parts)),
            _ => string.Join('/', parts),
        };
        try
        {
            TokenSources.Load(source, _policy);
            return true;
        }
        catch (Exception e) when (e is DataSourceRefusedException or FileNotFoundException or DataIdentityMismatchException or ArgumentException)
        {
            return false;
        }
    }
}
