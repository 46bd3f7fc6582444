using System.Text.Json;
using System.Text.Json.Serialization;
using Cluster.Grains.Interfaces.Jobs;

namespace Cluster.Client.Specs;

/// <summary>
/// Reads a job spec from JSON: the <see cref="JobSpec"/> record with camelCase names (case-insensitive), the same
/// field paths the cluster's validation reports. Unknown fields are refused, so a typo is not silently ignored.
/// </summary>
internal static class JobSpecFile
{
    private static readonly JsonSerializerOptions s_options = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    public static JobSpec Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SpecFileException($"cannot read the job spec {path}: {e.Message}", []);
        }
        return Parse(text, path);
    }

    public static JobSpec Parse(string json, string source)
    {
        try
        {
            return JsonSerializer.Deserialize<JobSpec>(json, s_options)
                ?? throw new SpecFileException($"{source}: the job spec is null; write a JSON object such as {{\"jobId\": \"my-job\", \"steps\": 100}}.", []);
        }
        catch (JsonException e)
        {
            string where = e.LineNumber is { } line ? $"{source}:{line + 1}" : source;
            string field = e.Path is { Length: > 2 } p ? p[2..] : "(document)";
            throw new SpecFileException($"{where}: the job spec is not valid JSON for a job ({field}):",
                [$"{where}: {field}: {FirstSentence(e.Message)}"]);
        }
    }

    private static string FirstSentence(string message)
    {
        int cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }
}
