using System.CommandLine;
using System.Globalization;
using Cluster.Client.Cli;
using Cluster.Client.Rendering;
using Spectre.Console;

namespace Cluster.Client.Commands;

/// <summary><c>quota set &lt;team&gt; &lt;maxNodes|none&gt;</c> and <c>quota show</c>: teams' limits on the nodes their jobs hold at once.</summary>
internal static class QuotaCommands
{
    public static Command Create(ConsoleContext context) =>
        new("quota", "Teams' node quotas") { Set(context), Show(context) };

    private static Command Show(ConsoleContext context) =>
        ReadCommand.List(context, "show", "Every team with a quota or a running job: quota, nodes in use, running jobs",
            (_, q) => q.GetQuotasAsync(), QuotasRenderer.Render, q => q.Team);

    private static Command Set(ConsoleContext context)
    {
        var team = new Argument<string>("team") { Description = "Team name (the jobs' 'team' field)" };
        var limit = new Argument<string>("maxNodes") { Description = "Most nodes the team's jobs may hold at once, or 'none' to lift the quota" };
        var command = new Command("set", "Set a team's node quota, or lift it with 'none' (jobs over it wait in the queue)") { team, limit };
        command.SetAction(context, async (parse, ct) =>
        {
            string name = parse.GetRequiredValue(team);
            int? maxNodes = ParseLimit(parse.GetRequiredValue(limit));
            if (string.IsNullOrWhiteSpace(name))
                throw new UsageException("the team name is empty: give the team whose quota to set (e.g. quota set research 4).");
            var view = await (await context.QueriesAsync(parse, ct)).SetQuotaAsync(name, maxNodes);
            context.Write(parse, view, _ => Lines.Of(QuotasRenderer.Line(view)), () => [view.Team]);
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>A node count of 0 or more, or null for "none".</summary>
    public static int? ParseLimit(string text)
    {
        if (string.Equals(text, "none", StringComparison.OrdinalIgnoreCase)) return null;
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int max)) return max;
        throw new UsageException($"maxNodes '{text}' is not a node count: give a whole number of 0 or more (e.g. quota set research 4), or 'none' to lift the quota.");
    }
}
