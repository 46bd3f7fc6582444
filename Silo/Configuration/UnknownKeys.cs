using System.Collections;
using System.Reflection;
using Cluster.Grains.Hosting;
using Cluster.Tls;
using Microsoft.Extensions.Configuration;

namespace Cluster.Silo.Configuration;

/// <summary>
/// Finds keys in the silo's sections that no option reads — almost always a typo (<c>Orleans:SiloPrt</c>) that would
/// otherwise be silently ignored — and suggests the closest real key.
/// </summary>
internal static class UnknownKeys
{
    /// <summary>Keys of the Orleans section that Orleans itself reads (see Orleans' DefaultSiloServices.ApplyConfiguration).</summary>
    private static readonly string[] s_orleansOwn =
        ["Name", "Endpoints", "Messaging", "EnableDistributedTracing", "Clustering", "Reminders", "BroadcastChannel", "Streaming", "GrainStorage", "GrainDirectory", "Metadata"];

    private static readonly (string Section, Type Options)[] s_sections =
    [
        (SiloHostOptions.Section, typeof(SiloHostOptions)),
        (SiloSettings.TrainingSection, typeof(TrainingClusterOptions)),
        (ClusterTlsOptions.Section, typeof(ClusterTlsOptions)),
        (ObservabilityOptions.Section, typeof(ObservabilityOptions)),
        (ShutdownOptions.Section, typeof(ShutdownOptions)),
        (KubernetesOptions.Section, typeof(KubernetesOptions)),
        (Cluster.Grains.Security.ClientAuthorizationOptions.Section, typeof(Cluster.Grains.Security.ClientAuthorizationOptions)),
    ];

    public static IEnumerable<string> Find(IConfiguration configuration)
    {
        foreach (var (section, type) in s_sections)
        {
            var extra = section == SiloHostOptions.Section ? s_orleansOwn : [];
            foreach (string problem in Check(configuration.GetSection(section), type, extra))
                yield return problem;
        }
    }

    private static IEnumerable<string> Check(IConfigurationSection section, Type type, IReadOnlyCollection<string> extra)
    {
        var properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite).ToList();
        foreach (var child in section.GetChildren())
        {
            if (extra.Contains(child.Key, StringComparer.OrdinalIgnoreCase)) continue;
            var property = properties.FirstOrDefault(p => string.Equals(p.Name, child.Key, StringComparison.OrdinalIgnoreCase));
            if (property is null)
            {
                string? closest = properties.Select(p => p.Name).Concat(extra).MinBy(n => Distance(n.ToLowerInvariant(), child.Key.ToLowerInvariant()));
                bool near = closest is not null && Distance(closest.ToLowerInvariant(), child.Key.ToLowerInvariant()) <= Math.Max(2, child.Key.Length / 4);
                yield return $"{child.Path} is not a setting{(near ? $": did you mean {section.Path}:{closest}?" : $"; {section.Path} has: {string.Join(", ", properties.Select(p => p.Name))}.")}";
                continue;
            }
            if (IsComplex(property.PropertyType))
            {
                foreach (string problem in Check(child, property.PropertyType, []))
                    yield return problem;
            }
        }
    }

    private static bool IsComplex(Type type) =>
        type.IsClass && type != typeof(string) && type != typeof(Uri) && !typeof(IEnumerable).IsAssignableFrom(type);

    /// <summary>Levenshtein distance.</summary>
    private static int Distance(string a, string b)
    {
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        for (int i = 1; i <= a.Length; i++)
        {
            var current = new int[b.Length + 1];
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            previous = current;
        }
        return previous[b.Length];
    }
}
