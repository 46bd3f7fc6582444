using Cluster.Silo.Configuration;
using Cluster.Silo.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Cluster.Silo;

/// <summary>
/// Runs one silo. Settings come from appsettings.json beside the executable, CLUSTER_-prefixed environment variables
/// and the command line (e.g. <c>--TrainingCluster:DeviceSlots=2</c>), later ones winning; all are validated before
/// the silo starts. Exit codes: 0 stopped normally, 1 failed while running, 2 invalid configuration.
/// </summary>
internal static partial class SiloCommand
{
    public const int ExitFailed = 1;
    public const int ExitInvalidConfiguration = 2;

    private const string CheckConfigFlag = "--check-config";

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length > 0 && args[0] is "-h" or "--help")
        {
            Console.WriteLine("""
                Usage:
                  Cluster.Silo demo [options]          train the demo model on a local cluster (see 'demo --help')
                  Cluster.Silo [--Key=Value …]         run one silo (default: localhost membership, file-system checkpoints)
                  Cluster.Silo --check-config [--Key=Value …]
                                                       validate the settings, print them (secrets masked) and exit
                Main settings (full list and examples: docs/deploy.md):
                  Orleans:SiloName, Orleans:ClusterId, Orleans:ServiceId, Orleans:SiloPort, Orleans:GatewayPort,
                  Orleans:PrimarySiloPort (localhost), Orleans:AdvertisedIPAddress,
                  Orleans:Membership:Provider (Localhost|AzureTable|Redis), Orleans:Membership:ConnectionString|ServiceUrl|TableName,
                  TrainingCluster:DeviceSlots|ThreadsPerSlot|DataRoot|CheckpointStore (filesystem|azureblob|s3)|AzureBlob:…|S3:…|FailureDetection (fast|fleet),
                  Tls:Enabled|CertificatePath|CertificatePassword|KeyPath|CertificateAuthorityPath|AllowedThumbprints|AllowInsecure,
                  Authorization:SiloSecret (needed beyond loopback)|Principals|AllowUnstampedSiloCalls,
                  Observability:PrometheusPort|DashboardPort|HealthPort|HealthHost|DeviceStallTimeout|OtlpEndpoint|OtlpProtocol,
                  Shutdown:DrainTimeout, Kubernetes:Mode (auto|on|off),
                  Silo:ParentProcessId (stop when that process is gone: for silos a test or benchmark starts)
                Sources, later winning: appsettings.json beside the executable, CLUSTER_ environment variables
                (CLUSTER_Orleans__SiloPort=11112), --Key=Value arguments (--Orleans:SiloPort=11112).
                Exit codes: 0 stopped normally, 1 failed while running, 2 invalid configuration.
                """);
            return 0;
        }
        bool checkOnly = args.Contains(CheckConfigFlag);
        var builder = SiloHost.CreateBuilder(args.Where(a => a != CheckConfigFlag).ToArray());
        var redactor = new SecretRedactor(builder.Configuration);
        SiloSettings settings;
        try
        {
            settings = SiloSettings.Load(builder.Configuration);
        }
        catch (SiloConfigurationException e)
        {
            Console.Error.WriteLine($"error: {redactor.Redact(e.Message)}");
            return ExitInvalidConfiguration;
        }
        if (checkOnly)
        {
            Console.WriteLine("Configuration is valid. Effective settings:");
            Console.WriteLine(redactor.DescribeEffectiveConfiguration());
            return 0;
        }

        try
        {
            if (builder.Configuration.GetValue<int?>("Silo:ParentProcessId") is { } parent)
                builder.Services.AddHostedService(sp => ActivatorUtilities.CreateInstance<ParentProcessWatch>(sp, parent));
            using var host = builder.ConfigureSilo(settings).Build(settings);
            LogEffectiveConfiguration(host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Cluster.Silo"), redactor.DescribeEffectiveConfiguration());
            await host.RunAsync();
            return 0;
        }
        catch (Exception e)
        {
            // One line per cause, secrets masked, no stack trace: the operator needs what failed, not where.
            var causes = new List<string>();
            for (Exception? cause = e; cause is not null; cause = cause.InnerException)
                causes.Add($"{cause.GetType().Name}: {cause.Message}");
            Console.Error.WriteLine($"error: the silo stopped: {redactor.Redact(string.Join(" ← ", causes))}");
            return ExitFailed;
        }
    }

    [LoggerMessage(1, LogLevel.Information, "Effective configuration (secrets masked):\n{Configuration}")]
    private static partial void LogEffectiveConfiguration(ILogger logger, string configuration);
}
