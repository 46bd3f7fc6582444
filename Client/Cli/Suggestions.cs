using System.Globalization;

namespace Cluster.Client.Cli;

/// <summary>
/// Answers the completion scripts: <c>clusterctl "[suggest:N]" "LINE"</c> writes the candidates for the word at
/// position N of LINE (the whole command line, program name first), one per line — System.CommandLine's completions
/// of the command tree, with job, node and silo ids fetched from the cluster only when the word expects one.
/// </summary>
internal sealed class Suggestions(ConsoleApp app)
{
    private const string Prefix = "[suggest";

    public static bool IsRequest(string first) => first.StartsWith(Prefix, StringComparison.Ordinal) && first.EndsWith(']');

    public async Task<int> WriteAsync(IReadOnlyList<string> args)
    {
        string line = args.Count > 1 ? args[1] : "";
        string directive = args[0];
        int position = directive.Length > Prefix.Length + 2 && int.TryParse(directive[(Prefix.Length + 1)..^1], NumberStyles.None, CultureInfo.InvariantCulture, out int p)
            ? Math.Clamp(p, 0, line.Length) : line.Length;
        // Drop the program's own name (clusterctl, or a path to it).
        int start = 0;
        while (start < line.Length && char.IsWhiteSpace(line[start])) start++;
        int end = start;
        while (end < line.Length && !char.IsWhiteSpace(line[end])) end++;
        string rest = end < line.Length ? line[(end + 1)..] : "";
        int cursor = Math.Max(0, position - Math.Min(line.Length, end + 1));
        string typed = rest[..Math.Min(cursor, rest.Length)];

        var candidates = Complete(typed);
        var parse = app.Root.Parse(typed);
        if (ExpectsIds(parse, typed))
        {
            await app.Context.LoadIdsForCompletionAsync(parse);
            candidates = Complete(typed);
        }
        app.Context.WriteRaw(string.Concat(candidates.Select(c => c + "\n")));
        return ExitCodes.Ok;
    }

    /// <summary>The candidates that start with the word being typed (System.CommandLine also offers those that merely contain it).</summary>
    private IReadOnlyList<string> Complete(string typed)
    {
        string word = typed.Length == 0 || char.IsWhiteSpace(typed[^1]) ? "" : typed[(typed.LastIndexOfAny([' ', '\t']) + 1)..];
        return [.. app.Root.Parse(typed).GetCompletions(typed.Length).Select(c => c.Label)
            .Where(c => c.StartsWith(word, StringComparison.Ordinal)).Distinct(StringComparer.Ordinal)];
    }

    /// <summary>Whether the word at the end is a job, node or silo name (not an option, not a subcommand).</summary>
    private static bool ExpectsIds(System.CommandLine.ParseResult parse, string typed)
    {
        var command = parse.CommandResult.Command;
        bool takesId = command.Arguments.Any(a => a.Name is "job" or "node") || command.Options.Any(o => o.Name == "--silo");
        string word = typed.Length == 0 || char.IsWhiteSpace(typed[^1]) ? "" : typed[(typed.LastIndexOfAny([' ', '\t']) + 1)..];
        return takesId && !word.StartsWith('-');
    }
}
