using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Cluster.Client.Views;

/// <summary>
/// The console's JSON for scripts: camelCase names, enums as their names, nulls written, durations in seconds.
/// The shapes are the records in this folder, documented in docs/console.md.
/// </summary>
internal static class ConsoleJson
{
    public static readonly JsonSerializerOptions Indented = Create(indented: true);

    /// <summary>One object per line (NDJSON), for streams: <c>job watch --json</c>, <c>events --json</c>.</summary>
    public static readonly JsonSerializerOptions Line = Create(indented: false);

    private static JsonSerializerOptions Create(bool indented) => new(JsonSerializerDefaults.Web)
    {
        WriteIndented = indented,
        Converters = { new JsonStringEnumConverter() },
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };
}
