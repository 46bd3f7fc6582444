using System.Text.RegularExpressions;
using Cluster.Grains.Hosting;
using Cluster.Grains.Security;
using Cluster.Tls;
using Microsoft.Extensions.Configuration;

namespace Cluster.Silo.Configuration;

/// <summary>Every setting of a silo, read from configuration and validated as a whole before any host starts.</summary>
public sealed partial record SiloSettings(
    SiloHostOptions Host,
    TrainingClusterOptions Training,
    ClusterTlsOptions Tls,
    ObservabilityOptions Observability,
    ShutdownOptions Shutdown,
    KubernetesOptions Kubernetes,
    ClientAuthorizationOptions Authorization)
{
    public const string TrainingSection = "TrainingCluster";

    /// <summary>
    /// Binds and validates every section; throws <see cref="SiloConfigurationException"/> listing all problems
    /// (values that do not parse, invalid or missing values, unknown keys), each with its full key.
    /// </summary>
    public static SiloSettings Load(IConfiguration configuration) => Load(configuration, Environment.GetEnvironmentVariable);

    /// <inheritdoc cref="Load(IConfiguration)"/>
    /// <param name="environment">The process environment (Kubernetes pod variables), replaceable in tests.</param>
    public static SiloSettings Load(IConfiguration configuration, Func<string, string?> environment)
    {
        var problems = new List<string>();
        var host = Bind<SiloHostOptions>(configuration, SiloHostOptions.Section, problems);
        var training = Bind<TrainingClusterOptions>(configuration, TrainingSection, problems);
        var tls = Bind<ClusterTlsOptions>(configuration, ClusterTlsOptions.Section, problems);
        var observability = Bind<ObservabilityOptions>(configuration, ObservabilityOptions.Section, problems);
        var shutdown = Bind<ShutdownOptions>(configuration, ShutdownOptions.Section, problems);
        var kubernetes = Bind<KubernetesOptions>(configuration, KubernetesOptions.Section, problems);
        var authorization = Bind<ClientAuthorizationOptions>(configuration, ClientAuthorizationOptions.Section, problems);
        if (problems.Count == 0)
        {
            // Validate only what bound: a value that did not parse would show up again as its default.
            problems.AddRange(host.Validate().Select(p => $"{SiloHostOptions.Section}:{p}"));
            problems.AddRange(training.Validate().Select(p => $"{TrainingSection}:{p}"));
            problems.AddRange(tls.Validate().Select(p => $"{ClusterTlsOptions.Section}:{p}"));
            problems.AddRange(observability.Validate().Select(p => $"{ObservabilityOptions.Section}:{p}"));
            problems.AddRange(shutdown.Validate().Select(p => $"{ShutdownOptions.Section}:{p}"));
            problems.AddRange(kubernetes.Validate(environment, host).Select(p => $"{KubernetesOptions.Section}:{p}"));
            problems.AddRange(authorization.Validate().Select(p => $"{ClientAuthorizationOptions.Section}:{p}"));
            // Asked once the rest is valid: the answer depends on membership and addresses being what they say.
            if (problems.Count == 0)
            {
                if (Hosting.NetworkExposure.Problem(host, tls) is { } exposure) problems.Add(exposure);
                if (Hosting.NetworkExposure.SiloSecretProblem(host, authorization) is { } unstamped) problems.Add(unstamped);
            }
        }
        problems.AddRange(UnknownKeys.Find(configuration));
        if (problems.Count > 0) throw new SiloConfigurationException(problems);
        return new SiloSettings(host, training, tls, observability, shutdown, kubernetes, authorization);
    }

    private static T Bind<T>(IConfiguration configuration, string section, List<string> problems) where T : new()
    {
        var value = new T();
        try
        {
            configuration.GetSection(section).Bind(value);
        }
        catch (InvalidOperationException e)
        {
            problems.Add(DescribeBindingError(e));
        }
        return value;
    }

    /// <summary>"Failed to convert configuration value 'x' at 'A:B' to type 'T'" → "A:B = 'x' is not a valid T: …".</summary>
    private static string DescribeBindingError(InvalidOperationException e)
    {
        var match = BindingError().Match(e.Message);
        if (!match.Success) return e.Message;
        string key = match.Groups["key"].Value, type = match.Groups["type"].Value;
        string example = type switch
        {
            "System.Int32" or "System.Int64" => "a whole number such as 2",
            "System.TimeSpan" => "a duration such as 00:00:01.5 (hh:mm:ss.fff)",
            "System.Boolean" => "true or false",
            "System.Uri" => "an absolute URL such as https://account.blob.core.windows.net",
            _ => $"a {type}",
        };
        return $"{key} = '{match.Groups["value"].Value}' does not parse: give {example}.";
    }

    [GeneratedRegex("value '(?<value>.*)' at '(?<key>[^']+)' to type '(?<type>[^']+)'", RegexOptions.Singleline)]
    private static partial Regex BindingError();
}
