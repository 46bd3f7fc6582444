using System.CommandLine;
using System.Reflection;
using System.Runtime.InteropServices;
using Cluster.Client.Cli;
using Cluster.Client.Connection;
using Cluster.Client.Views;
using Cluster.Grains.Interfaces.Silos;
using Spectre.Console;

namespace Cluster.Client.Commands;

/// <summary>
/// <c>version [--client]</c>: this clusterctl's version, framework and OS; then the cluster's silos (name, address,
/// status, start time) and the build each reports (version and commit, from a grain placed on that silo). An
/// unreachable cluster still prints the client part, then exits 3.
/// </summary>
internal static class VersionCommand
{
    public static string ClientVersion { get; } =
        typeof(VersionCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    public static Command Create(ConsoleContext context)
    {
        var clientOnly = new Option<bool>("--client") { Description = "Only this clusterctl's version (no connection)" };
        var command = new Command("version", "clusterctl's version, and the cluster's silos") { clientOnly };
        command.SetAction(context, async (parse, ct) =>
        {
            var client = new ClientVersionView(ClientVersion, RuntimeInformation.FrameworkDescription, RuntimeInformation.OSDescription);
            if (parse.GetValue(clientOnly))
            {
                var alone = new VersionView(client, null, null);
                context.Write(parse, alone, _ => Render(alone), () => [client.Version]);
                return ExitCodes.Ok;
            }
            try
            {
                var orleans = await context.ClientAsync(parse, ct);
                var hosts = await orleans.GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: true);
                var silos = await Task.WhenAll(hosts.OrderBy(h => h.SiloName, StringComparer.Ordinal).Select(h => WithBuildAsync(orleans,
                    new SiloVersionView(h.SiloName, h.SiloAddress.Endpoint.ToString(), h.Status.ToString(), h.StartTime), ct)));
                var builds = silos.Where(s => s.Build is not null).Select(s => s.Build).Distinct(StringComparer.Ordinal).ToArray();
                var cluster = new ClusterVersionView(silos, builds.Length switch { 0 => null, 1 => builds[0], _ => "mixed" });
                var view = new VersionView(client, cluster, null);
                context.Write(parse, view, _ => Render(view), () => [client.Version]);
                return ExitCodes.Ok;
            }
            catch (ClusterUnreachableException e)
            {
                var view = new VersionView(client, null, e.Message);
                context.Write(parse, view, _ => Render(view), () => [client.Version]);
                context.Error.MarkupLine($"[red]error:[/] {Markup.Escape(e.Message)}");
                return ExitCodes.Unreachable;
            }
        });
        return command;
    }

    /// <summary>The silo's own answer; a silo that does not answer in time (or runs a build without the grain) says why instead.</summary>
    private static async Task<SiloVersionView> WithBuildAsync(IClusterClient client, SiloVersionView silo, CancellationToken ct)
    {
        try
        {
            var build = await client.GetGrain<ISiloBuildGrain>(SiloBuildKeys.Of(silo.Name)).GetBuild().WaitAsync(TimeSpan.FromSeconds(10), ct);
            return silo with { Version = build.Version, Commit = build.Commit, Framework = build.Framework };
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            return silo with { BuildError = e is TimeoutException ? "no answer within 10 s" : e.Message.Split('\n')[0] };
        }
    }

    private static Rows Render(VersionView view)
    {
        var lines = new List<Spectre.Console.Rendering.IRenderable>
        {
            new Markup($"client  clusterctl {Markup.Escape(view.Client.Version)} ({Markup.Escape(view.Client.Framework)}, {Markup.Escape(view.Client.Os)})"),
        };
        if (view.Cluster is { } cluster)
        {
            lines.Add(new Markup($"cluster {cluster.Silos.Count} active silo(s), build {Markup.Escape(cluster.Build ?? "unknown")}" +
                (cluster.Build == "mixed" ? " [yellow](silos run different builds)[/]" : "")));
            foreach (var s in cluster.Silos)
            {
                string build = s.Build is { } b ? $"{Markup.Escape(b)} ({Markup.Escape(s.Framework ?? "")})" : $"[yellow]build unknown: {Markup.Escape(s.BuildError ?? "")}[/]";
                lines.Add(new Markup($"  {Markup.Escape(s.Name)}  {Markup.Escape(s.Address)}  {Markup.Escape(s.Status)}  started {s.StartedAt.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC  {build}"));
            }
        }
        lines.Add(Text.Empty);
        return new Rows(lines);
    }
}
