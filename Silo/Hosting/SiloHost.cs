using Cluster.Grains.Hosting;
using Cluster.Silo.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration.CommandLine;
using Microsoft.Extensions.Configuration.EnvironmentVariables;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Orleans.Dashboard;

namespace Cluster.Silo.Hosting;

/// <summary>Builds the silo host from validated <see cref="SiloSettings"/>; the <c>Cluster.Silo</c> executable and the tests share it.</summary>
internal static class SiloHost
{
    /// <summary>Margin past the drain timeout for the silo to leave the cluster cleanly.</summary>
    private static readonly TimeSpan s_leaveMargin = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A host builder whose configuration is appsettings.json (beside the executable), then CLUSTER_-prefixed
    /// environment variables, then the command line: later sources win, read once at start (no file watcher:
    /// <see cref="StartupConfiguration"/>). A web host (Kestrel) only when the Orleans Dashboard is on, so that a silo
    /// without it opens no HTTP port; that one keeps ASP.NET's own defaults, which watch appsettings.json.
    /// </summary>
    public static IHostApplicationBuilder CreateBuilder(string[] args)
    {
        // appsettings.json is read beside the executable (e.g. /opt/cluster-silo), wherever the silo is started from.
        string contentRoot = AppContext.BaseDirectory;
        IHostApplicationBuilder builder = DashboardRequested(args, contentRoot)
            ? WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = contentRoot })
            : Host.CreateApplicationBuilder(StartupConfiguration.ReadOnce(args, contentRoot)); // read once, not watched
        var sources = builder.Configuration.Sources;
        int commandLine = sources.Select((s, i) => (s, i)).LastOrDefault(x => x.s is CommandLineConfigurationSource, (null!, sources.Count)).Item2;
        sources.Insert(commandLine, new EnvironmentVariablesConfigurationSource { Prefix = "CLUSTER_" });
        return builder;
    }

    /// <summary>Builds the host; with the dashboard on, maps it on its own port.</summary>
    public static IHost Build(this IHostApplicationBuilder builder, SiloSettings settings)
    {
        if (builder is not WebApplicationBuilder web) return ((HostApplicationBuilder)builder).Build();
        var observability = settings.Observability;
        web.WebHost.UseUrls($"http://{observability.DashboardHost}:{observability.DashboardPort}");
        var app = web.Build();
        app.MapOrleansDashboard();
        return app;
    }

    /// <summary>Whether Observability:DashboardPort is set, read from the same sources before the host builder exists.</summary>
    private static bool DashboardRequested(string[] args, string contentRoot)
    {
        var early = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(contentRoot, "appsettings.json"), optional: true)
            .AddEnvironmentVariables()
            .AddEnvironmentVariables("CLUSTER_")
            .AddCommandLine(args)
            .Build();
        return int.TryParse(early[$"{ObservabilityOptions.Section}:{nameof(ObservabilityOptions.DashboardPort)}"], out int port) && port > 0;
    }

    /// <summary>Adds the silo, its membership, TLS, training cluster, graceful shutdown, systemd and metrics to <paramref name="builder"/>.</summary>
    public static IHostApplicationBuilder ConfigureSilo(this IHostApplicationBuilder builder, SiloSettings settings)
    {
        builder.Services.AddSystemd(); // no-op unless started by systemd (then: notify readiness, journal log format)
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = settings.Shutdown.DrainTimeout + s_leaveMargin);
        builder.Services.AddSingleton(Microsoft.Extensions.Options.Options.Create(settings.Shutdown));
        builder.Services.AddHostedService(services => new InsecureStartWarning(settings.Host, settings.Tls,
            services.GetRequiredService<Microsoft.Extensions.Logging.ILogger<InsecureStartWarning>>(), settings.Authorization));
        // Before the silo: hosted services stop in reverse order, so the probes keep answering while the silo drains.
        builder.AddConfiguredHealthChecks(settings.Observability);
        builder.UseOrleans(silo =>
        {
            silo.UseConfiguredMembership(settings.Host);
            if (settings.Host.SiloName is { Length: > 0 } name)
                silo.Configure<SiloOptions>(o => o.SiloName = name);
            silo.UseKubernetesWhenInPod(settings.Kubernetes, Environment.GetEnvironmentVariable);
            silo.UseFailureDetection(settings.Training.FailureDetection);
            silo.UseConfiguredTls(settings.Tls);
            silo.UseOperatorSurface(settings.Tls, settings.Authorization);
            silo.AddTrainingCluster(o => builder.Configuration.GetSection(SiloSettings.TrainingSection).Bind(o));
            silo.UseConfiguredJobState(settings);
            silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, DrainOnShutdown>();
            if (settings.Observability.DashboardPort > 0) silo.AddDashboard();
            if (settings.Observability.OtlpEndpoint is not null) silo.AddActivityPropagation(); // one trace across silos
        });
        builder.AddConfiguredMetrics(settings);
        return builder;
    }
}
