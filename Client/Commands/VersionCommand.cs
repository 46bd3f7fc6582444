using System.CommandLine;
using System.Reflection;
using System.Runtime.InteropServices;
using Cluster.Client.Cli;
using Cluster.Client.Connection;
using Cluster.Client.Views;
using Spectre.Console;

namespace Cluster.Client.Commands;

/// <summary>
/// <c>version [--client]</c>: this clusterctl's version, framework and OS; then the cluster's silos (name, address,
/// status, start time). The silos' own build is not shown: no grain interface exposes it yet. An unreachable cluster
/// still prints the client part, then exits 3.
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
                var cluster = new ClusterVersionView([.. hosts.OrderBy(h => h.SiloName, StringComparer.Ordinal)
                    .Select(h => new SiloVersionView(h.SiloName, h.SiloAddress.Endpoint.ToString(), h.Status.ToString(), h.StartTime))], null);
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

    private static Rows Render(VersionView view)
    {
        var lines = new List<Spectre.Console.Rendering.IRenderable>
        {
            new Markup($"client  clusterctl {Markup.Escape(view.Client.Version)} ({Markup.Escape(view.Client.Framework)}, {Markup.Escape(view.Client.Os)})"),
        };
        if (view.Cluster is { } cluster)
        {
            lines.Add(new Markup($"cluster {cluster.Silos.Count} active silo(s); their build is not exposed by the cluster"));
            foreach (var s in cluster.Silos)
                lines.Add(new Markup($"  {Markup.Escape(s.Name)}  {Markup.Escape(s.Address)}  {Markup.Escape(s.Status)}  started {s.StartedAt.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC"));
        }
        lines.Add(Text.Empty);
        return new Rows(lines);
    }
}
