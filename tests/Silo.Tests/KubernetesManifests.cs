using YamlDotNet.RepresentationModel;

namespace Cluster.Silo.Tests;

/// <summary>Every YAML document under deploy/kubernetes, parsed with YamlDotNet, with small helpers to walk them.</summary>
internal sealed class KubernetesManifests
{
    private KubernetesManifests(string directory, IReadOnlyList<(string File, YamlMappingNode Document)> documents)
    {
        Directory = directory;
        Documents = documents;
    }

    public string Directory { get; }

    public IReadOnlyList<(string File, YamlMappingNode Document)> Documents { get; }

    public static KubernetesManifests Load()
    {
        string directory = Path.Combine(RepositoryRoot(), "deploy", "kubernetes");
        var documents = new List<(string, YamlMappingNode)>();
        foreach (string path in System.IO.Directory.GetFiles(directory, "*.yaml").Order(StringComparer.Ordinal))
        {
            var stream = new YamlStream();
            using (var reader = new StreamReader(path)) stream.Load(reader); // throws, naming line and column, on bad YAML
            foreach (var document in stream.Documents)
            {
                if (document.RootNode is YamlMappingNode root) documents.Add((Path.GetFileName(path), root));
            }
        }
        return new KubernetesManifests(directory, documents);
    }

    public IEnumerable<YamlMappingNode> OfKind(string kind) =>
        Documents.Where(d => Text(d.Document, "kind") == kind).Select(d => d.Document);

    public YamlMappingNode Single(string kind) => Assert.Single(OfKind(kind));

    public static YamlNode? Get(YamlNode node, params string[] path)
    {
        YamlNode? current = node;
        foreach (string key in path)
        {
            if (current is not YamlMappingNode mapping || !mapping.Children.TryGetValue(new YamlScalarNode(key), out current)) return null;
        }
        return current;
    }

    public static YamlMappingNode Map(YamlNode node, params string[] path) =>
        Get(node, path) as YamlMappingNode ?? throw new Xunit.Sdk.XunitException($"'{string.Join('.', path)}' is not a mapping");

    public static IReadOnlyList<YamlNode> List(YamlNode node, params string[] path) =>
        (Get(node, path) as YamlSequenceNode)?.Children.ToList() ?? [];

    public static string? Text(YamlNode node, params string[] path) => (Get(node, path) as YamlScalarNode)?.Value;

    public static IReadOnlyDictionary<string, string> Labels(YamlNode node, params string[] path) =>
        (Get(node, path) as YamlMappingNode)?.Children.ToDictionary(kv => ((YamlScalarNode)kv.Key).Value!, kv => ((YamlScalarNode)kv.Value).Value!)
        ?? new Dictionary<string, string>();

    public static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Cluster.sln"))) return directory.FullName;
        }
        throw new InvalidOperationException($"No folder above '{AppContext.BaseDirectory}' contains Cluster.sln.");
    }
}
