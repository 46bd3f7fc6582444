using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace Cluster.Grains.Hosting;

/// <summary>
/// The host settings of a silo, which reads its configuration once, at start: every option is bound and validated then,
/// and nothing reads it again (no <c>IOptionsMonitor</c>, no reload token). So its host watches no configuration file.
/// The host's defaults would (appsettings.json with <c>reloadOnChange</c>): a recursive file watcher on the content
/// root — one inotify instance per host, of the 128 Linux allows a user by default, which in-process clusters of many
/// silos share; a watch on every directory below it; and every write below it handled by every silo's watcher, which
/// with the demo's data root under the working directory is every checkpoint and state save. A changed appsettings.json
/// takes effect when the silo restarts, as it always did.
/// </summary>
public static class StartupConfiguration
{
    /// <summary>The host configuration key that turns the defaults' file watching off.</summary>
    public const string ReloadOnChangeKey = "hostBuilder:reloadConfigOnChange";

    /// <summary>Settings for <c>Host.CreateApplicationBuilder</c> whose configuration files are read once, not watched.</summary>
    public static HostApplicationBuilderSettings ReadOnce(string[]? args = null, string? contentRootPath = null)
    {
        var configuration = new ConfigurationManager();
        configuration.AddInMemoryCollection([new(ReloadOnChangeKey, "false")]); // a source: a manager without one drops what its indexer sets
        return new HostApplicationBuilderSettings { Args = args, ContentRootPath = contentRootPath, Configuration = configuration };
    }
}
