namespace Cluster.Client.Data;

/// <summary>A job, node or checkpoint the operator named does not exist (exit code 4); suggests close matches.</summary>
internal sealed class NotFoundException(string what, string id, IReadOnlyList<string> suggestions, string? hint = null)
    : Exception(Compose(what, id, suggestions, hint))
{
    public IReadOnlyList<string> Suggestions { get; } = suggestions;

    private static string Compose(string what, string id, IReadOnlyList<string> suggestions, string? hint) =>
        $"{what} '{id}' not found." +
        (suggestions.Count > 0 ? $" Did you mean {string.Join(", ", suggestions.Select(s => $"'{s}'"))}?" : "") +
        (hint is null ? "" : " " + hint);
}
