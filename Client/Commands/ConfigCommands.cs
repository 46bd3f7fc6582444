using System.CommandLine;
using Cluster.Client.Cli;
using Cluster.Client.Config;
using Cluster.Client.Rendering;
using Cluster.Client.Views;
using Spectre.Console;

namespace Cluster.Client.Commands;

/// <summary>
/// <c>config get-contexts|current-context|use-context|set-context|delete-context</c>: named clusters in the clusterctl
/// config file, as kubectl's. Nothing here connects.
/// </summary>
internal static class ConfigCommands
{
    public static Command Create(ConsoleContext context) => new("config", "Named clusters (contexts) in the clusterctl config file: $CLUSTERCTL_CONFIG or ~/.config/clusterctl/config.json")
    {
        GetContexts(context), CurrentContext(context), UseContext(context), SetContext(context), DeleteContext(context),
    };

    private static Argument<string> Name(ConsoleContext context)
    {
        var name = new Argument<string>("name") { Description = "Context name" };
        name.CompletionSources.Add(_ =>
        {
            try
            {
                return context.Contexts.Load().Contexts.Keys.Select(k => new System.CommandLine.Completions.CompletionItem(k));
            }
            catch (UsageException)
            {
                return [];
            }
        });
        return name;
    }

    private static Command GetContexts(ConsoleContext context)
    {
        var command = new Command("get-contexts", "List the contexts; * marks the current one");
        command.SetAction(context, (parse, _) =>
        {
            var config = context.Contexts.Load();
            ContextView[] views = [.. config.Contexts.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => View(c.Key, c.Value, c.Key == config.CurrentContext))];
            context.Write(parse, views, o => Render(views, o, context.Contexts.Path), () => views.Select(v => v.Name));
            return Task.FromResult(ExitCodes.Ok);
        });
        return command;
    }

    private static Command CurrentContext(ConsoleContext context)
    {
        var command = new Command("current-context", "Print the current context's name (exit 4 when none is set)");
        command.SetAction(context, (parse, _) =>
        {
            string current = context.Contexts.Load().CurrentContext
                ?? throw new Data.NotFoundException("Current context of", context.Contexts.Path, [], "Choose one with 'config use-context <name>'.");
            context.Write(parse, new { currentContext = current }, _ => new Text(current + "\n"), () => [current]);
            return Task.FromResult(ExitCodes.Ok);
        });
        return command;
    }

    private static Command UseContext(ConsoleContext context)
    {
        var name = Name(context);
        var command = new Command("use-context", "Make a context the current one (used when --context is not given)") { name };
        command.SetAction(context, (parse, _) =>
        {
            string chosen = parse.GetRequiredValue(name);
            var config = context.Contexts.Load();
            if (!config.Contexts.ContainsKey(chosen))
                throw new UsageException($"no context '{chosen}' in {context.Contexts.Path}." + ContextStore.Suggest(chosen, config));
            context.Contexts.Save(config with { CurrentContext = chosen });
            context.Error.MarkupLine($"switched to context [bold]{Markup.Escape(chosen)}[/]");
            return Task.FromResult(ExitCodes.Ok);
        });
        return command;
    }

    private static Command DeleteContext(ConsoleContext context)
    {
        var name = Name(context);
        var command = new Command("delete-context", "Remove a context from the config file") { name };
        command.SetAction(context, (parse, _) =>
        {
            string chosen = parse.GetRequiredValue(name);
            var config = context.Contexts.Load();
            if (!config.Contexts.Remove(chosen))
                throw new UsageException($"no context '{chosen}' in {context.Contexts.Path}." + ContextStore.Suggest(chosen, config));
            context.Contexts.Save(config with { CurrentContext = config.CurrentContext == chosen ? null : config.CurrentContext });
            context.Error.MarkupLine($"deleted context [bold]{Markup.Escape(chosen)}[/]");
            return Task.FromResult(ExitCodes.Ok);
        });
        return command;
    }

    private static Command SetContext(ConsoleContext context)
    {
        var name = Name(context);
        var provider = new Option<string?>("--membership-provider") { Description = "Localhost, AzureTable or Redis (as the silos' Orleans:Membership:Provider)" };
        provider.CompletionSources.Add("Localhost", "AzureTable", "Redis");
        var connection = new Option<string?>("--membership-connection-string") { Description = "AzureTable storage connection string, or Redis host:port (kept in the file, never printed)" };
        var serviceUrl = new Option<Uri?>("--membership-service-url") { Description = "AzureTable endpoint, signed in with DefaultAzureCredential" };
        var table = new Option<string?>("--membership-table") { Description = "AzureTable membership table [default: OrleansSiloInstances]" };
        var certificate = new Option<string?>("--tls-certificate") { Description = "This operator's certificate (.pfx/.p12 or .pem); turns mutual TLS on" };
        var key = new Option<string?>("--tls-key") { Description = "PEM private key, when not in the certificate file" };
        var password = new Option<string?>("--tls-certificate-password") { Description = "Password of the .pfx (kept in the file, never printed)" };
        var authority = new Option<string?>("--tls-ca") { Description = "CA certificate that issued the silos' certificates" };
        var thumbprints = new Option<string[]>("--tls-thumbprint") { Description = "Silo certificate thumbprint to trust (repeatable)", Arity = ArgumentArity.OneOrMore };
        var use = new Option<bool>("--use") { Description = "Also make it the current context" };
        var command = new Command("set-context", "Create or update a context: --gateway, --gateway-port, --cluster-id, --service-id, --connect-timeout and the options below; fields not given keep their value")
        {
            name, provider, connection, serviceUrl, table, certificate, key, password, authority, thumbprints, use,
        };
        command.SetAction(context, (parse, _) =>
        {
            string chosen = parse.GetRequiredValue(name);
            if (string.IsNullOrWhiteSpace(chosen) || chosen.Any(char.IsWhiteSpace))
                throw new UsageException($"context name '{chosen}' must be a word without spaces, e.g. prod or gpu-west.");
            var global = context.Global;
            var config = context.Contexts.Load();
            var old = config.Contexts.GetValueOrDefault(chosen) ?? new ClusterContext();
            var updated = old with
            {
                Gateways = parse.GetValue(global.Gateway) is { Length: > 0 } g ? [.. g] : old.Gateways,
                GatewayPort = parse.GetValue(global.GatewayPort) ?? old.GatewayPort,
                ClusterId = parse.GetValue(global.ClusterId) ?? old.ClusterId,
                ServiceId = parse.GetValue(global.ServiceId) ?? old.ServiceId,
                ConnectTimeoutSeconds = parse.GetValue(global.ConnectTimeout) ?? old.ConnectTimeoutSeconds,
                MembershipProvider = parse.GetValue(provider) ?? old.MembershipProvider,
                MembershipConnectionString = parse.GetValue(connection) ?? old.MembershipConnectionString,
                MembershipServiceUrl = parse.GetValue(serviceUrl) ?? old.MembershipServiceUrl,
                MembershipTable = parse.GetValue(table) ?? old.MembershipTable,
                TlsCertificate = FullPath(parse.GetValue(certificate)) ?? old.TlsCertificate,
                TlsKey = FullPath(parse.GetValue(key)) ?? old.TlsKey,
                TlsCertificatePassword = parse.GetValue(password) ?? old.TlsCertificatePassword,
                TlsCertificateAuthority = FullPath(parse.GetValue(authority)) ?? old.TlsCertificateAuthority,
                TlsThumbprints = parse.GetValue(thumbprints) is { Length: > 0 } t ? [.. t] : old.TlsThumbprints,
            };
            // The same validation as a connection: a context that cannot work is refused now, not at first use.
            var options = Connection.ClientConnectionOptions.From(new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build());
            updated.ApplyTo(options);
            if (options.Validate() is { Count: > 0 } problems)
                throw new UsageException($"context '{chosen}' would not connect:", problems);
            config.Contexts[chosen] = updated;
            bool makeCurrent = parse.GetValue(use) || config.CurrentContext is null;
            context.Contexts.Save(config with { CurrentContext = makeCurrent ? chosen : config.CurrentContext });
            context.Error.MarkupLine($"context [bold]{Markup.Escape(chosen)}[/] {(old == new ClusterContext() ? "created" : "updated")} in {Markup.Escape(context.Contexts.Path)}" +
                (makeCurrent ? "; it is the current context" : ""));
            return Task.FromResult(ExitCodes.Ok);
        });
        return command;
    }

    /// <summary>Files are kept as full paths: the context is used from any folder.</summary>
    private static string? FullPath(string? path) => path is null ? null : Path.GetFullPath(path);

    private static ContextView View(string name, ClusterContext c, bool current) => new(
        name, current, c.Describe(), c.ClusterId, c.ServiceId, c.MembershipProvider, c.TlsCertificate is not null, c.TlsCertificate, c.ConnectTimeoutSeconds);

    private static Spectre.Console.Rendering.IRenderable Render(IReadOnlyList<ContextView> views, TableOptions options, string path)
    {
        if (views.Count == 0) return TableStyle.Empty(options, $"No contexts in {Markup.Escape(path)}: define one with [bold]config set-context <name> --gateway host:port[/].\n");
        var table = TableStyle.Create(options, ["current", "name", "cluster", "cluster id", "service id", "tls"]);
        foreach (var v in views)
        {
            table.AddRow(v.Current ? "*" : "", Markup.Escape(v.Name), Markup.Escape(v.Server), Markup.Escape(v.ClusterId ?? "-"), Markup.Escape(v.ServiceId ?? "-"),
                v.Tls ? Markup.Escape(v.Certificate ?? "on") : "off");
        }
        return table;
    }
}
