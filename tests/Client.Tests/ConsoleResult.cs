using System.Text.Json;

namespace Cluster.Client.Tests;

/// <summary>What one console command did: exit code, rendered text, errors and raw (JSON) standard output.</summary>
internal sealed record ConsoleResult(int ExitCode, string Out, string Error, string Raw)
{
    public JsonElement Json() => JsonDocument.Parse(Raw).RootElement;

    /// <summary>The NDJSON lines of a streamed command.</summary>
    public IReadOnlyList<JsonElement> JsonLines() =>
        [.. Raw.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(l => JsonDocument.Parse(l).RootElement)];

    public override string ToString() => $"exit {ExitCode}\n--- out\n{Out}\n--- error\n{Error}\n--- raw\n{Raw}";
}
