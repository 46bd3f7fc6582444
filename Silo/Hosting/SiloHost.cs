using Cluster.Grains.Hosting;
using Cluster.Silo.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;

namespace Cluster.Silo.Hosting;

/// <summary>Builds the silo host from validated <see cref="SiloSettings"/>; the <c>Cluster.Silo</c> executable and the tests share it.</summary>
internal static class SiloHost
{
    /// <summary>Margin past the drain timeout for the silo to leave the cluster cleanly.</summary>
    private static readonly TimeSpan s_leaveMargin = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A host builder whose configuration is appsettings.json (beside the executable), then CLUSTER_-prefixed
    /// environment variables, then the command line: later sources win.
    /// </summary>
    public static HostApplicationBuilder CreateBuilder(string[] args)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = args,
            // appsettings.json is read beside the executable (e.g. /opt/cluster-silo), wherever the silo is started from.
            ContentRootPath = AppContext.BaseDirectory,
        });
        var sources = builder.Configuration.Sources;
        int commandLine = sources.Select((s, i) => (s, i)).LastOrDefault(x => x.s is CommandLineConfigurationSource, (null!, sources.Count)).Item2;
        sources.Insert(commandLine, new Microsoft.Extensions.Configuration.EnvironmentVariables.EnvironmentVariablesConfigurationSource { Prefix = "CLUSTER_" });
        return builder;
    }

    /// <summary>Adds the silo, its membership, TLS, training cluster, graceful shutdown, systemd and metrics to <paramref name="builder"/>.</summary>
    public static HostApplicationBuilder ConfigureSilo(this HostApplicationBuilder builder, SiloSettings settings)
    {
        builder.Services.AddSystemd(); // no-op unless started by systemd (then: notify readiness, journal log format)
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = settings.Shutdown.DrainTimeout + s_leaveMargin);
        builder.Services.AddSingleton(Microsoft.Extensions.Options.Options.Create(settings.Shutdown));
        builder.UseOrleans(silo =>
        {
            silo.UseConfiguredMembership(settings.Host);
            if (settings.Host.SiloName is { Length: > 0 } name)
                silo.Configure<SiloOptions>(o => o.SiloName = name);
            silo.UseFastFailureDetection();
            silo.UseConfiguredTls(settings.Tls);
            silo.AddTrainingCluster(o => builder.Configuration.GetSection(SiloSettings.TrainingSection).Bind(o));
            silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, DrainOnShutdown>();
        });
        builder.AddConfiguredMetrics(settings.Observability);
        return builder;
    }
}
