using System.Text.Json;
using System.Text.Json.Serialization;
using Cluster.Client.Cli;
using Cluster.Client.Matching;

namespace Cluster.Client.Config;

/// <summary>
/// Reads and writes the clusterctl config file: <c>$CLUSTERCTL_CONFIG</c>, else
/// <c>$XDG_CONFIG_HOME/clusterctl/config.json</c> (<c>~/.config/clusterctl/config.json</c>). A missing file is an
/// empty config: the console then connects as appsettings.json, CLUSTER_ variables and flags say.
/// </summary>
internal sealed class ContextStore(string path)
{
    public const string PathVariable = "CLUSTERCTL_CONFIG";

    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    public string Path { get; } = path;

    public static string DefaultPath()
    {
        if (Environment.GetEnvironmentVariable(PathVariable) is { Length: > 0 } explicitPath) return explicitPath;
        string root = Environment.GetEnvironmentVariable("XDG_CONFIG_HOME") is { Length: > 0 } xdg
            ? xdg
            : System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config");
        return System.IO.Path.Combine(root, "clusterctl", "config.json");
    }

    public ClusterctlConfig Load()
    {
        if (!File.Exists(Path)) return new ClusterctlConfig();
        try
        {
            var config = JsonSerializer.Deserialize<ClusterctlConfig>(File.ReadAllText(Path), s_json) ?? new ClusterctlConfig();
            return config with { Contexts = new Dictionary<string, ClusterContext>(config.Contexts, StringComparer.Ordinal) };
        }
        catch (JsonException e)
        {
            throw new UsageException($"the clusterctl config file {Path} is not valid: {e.Message.Split(" Path:")[0]} ({e.Path}). Fix it, or remove it to start again.");
        }
        catch (IOException e)
        {
            throw new UsageException($"cannot read the clusterctl config file {Path}: {e.Message}");
        }
    }

    public void Save(ClusterctlConfig config)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!);
        string temporary = Path + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(config, s_json));
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite); // it may hold secrets
        File.Move(temporary, Path, overwrite: true);
    }

    /// <summary>The context named (or, with null, the current one, if any); an unknown name is a usage error listing the known ones.</summary>
    public (string Name, ClusterContext Context)? Select(string? name)
    {
        var config = Load();
        string? chosen = name ?? config.CurrentContext;
        if (chosen is null) return null;
        if (config.Contexts.TryGetValue(chosen, out var context)) return (chosen, context);
        throw new UsageException(name is null
            ? $"the current context '{chosen}' of {Path} is not defined there: choose another with 'config use-context', or define it with 'config set-context {chosen} …'."
            : $"no context '{chosen}' in {Path}." + Suggest(chosen, config));
    }

    public static string Suggest(string name, ClusterctlConfig config)
    {
        if (config.Contexts.Count == 0) return " Define one with 'config set-context <name> --gateway host:port'.";
        var close = CloseMatches.Find(name, config.Contexts.Keys);
        return (close.Count > 0 ? $" Did you mean {string.Join(", ", close.Select(c => $"'{c}'"))}?" : "") +
            $" Known: {string.Join(", ", config.Contexts.Keys.Order(StringComparer.Ordinal))}.";
    }
}
