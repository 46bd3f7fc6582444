namespace Cluster.Silo.Configuration;

/// <summary>The silo's configuration has problems; <see cref="Exception.Message"/> lists each with the key and the fix.</summary>
public sealed class SiloConfigurationException(IReadOnlyList<string> problems) : Exception(Format(problems))
{
    public IReadOnlyList<string> Problems { get; } = problems;

    private static string Format(IReadOnlyList<string> problems) =>
        $"the silo's configuration is invalid ({problems.Count} problem{(problems.Count == 1 ? "" : "s")}):{Environment.NewLine}" +
        string.Join(Environment.NewLine, problems.Select(p => $"  - {p}")) + Environment.NewLine +
        "Settings come from appsettings.json beside the executable, CLUSTER_-prefixed environment variables (':' written as '__', " +
        "e.g. CLUSTER_Orleans__SiloPort=11111) and --Key=Value arguments (e.g. --Orleans:SiloPort=11111), later ones winning; see docs/deploy.md.";
}
