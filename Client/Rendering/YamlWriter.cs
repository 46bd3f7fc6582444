using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Cluster.Client.Rendering;

/// <summary>
/// <c>-o yaml</c>: the same document as <c>-o json</c> (same names, same values) written as block YAML. Strings a YAML
/// reader could take for something else (numbers, booleans, null, dates, text with ": " or a leading symbol) are
/// double-quoted with JSON escapes, which YAML reads the same way.
/// </summary>
internal static class YamlWriter
{
    public static string Write(JsonElement root)
    {
        var yaml = new StringBuilder();
        if (IsBlock(root)) WriteBlock(yaml, root, 0);
        else yaml.Append(Scalar(root)).Append('\n');
        return yaml.ToString();
    }

    private static bool IsBlock(JsonElement e) =>
        (e.ValueKind == JsonValueKind.Object && e.EnumerateObject().Any()) || (e.ValueKind == JsonValueKind.Array && e.GetArrayLength() > 0);

    private static void WriteBlock(StringBuilder yaml, JsonElement e, int indent)
    {
        if (e.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in e.EnumerateObject())
            {
                yaml.Append(' ', indent).Append(Key(property.Name)).Append(':');
                WriteAfterKey(yaml, property.Value, indent);
            }
            return;
        }
        foreach (var item in e.EnumerateArray())
        {
            yaml.Append(' ', indent).Append("- ");
            WriteItem(yaml, item, indent + 2);
        }
    }

    private static void WriteAfterKey(StringBuilder yaml, JsonElement value, int indent)
    {
        if (!IsBlock(value))
        {
            yaml.Append(' ').Append(Scalar(value)).Append('\n');
            return;
        }
        yaml.Append('\n');
        WriteBlock(yaml, value, value.ValueKind == JsonValueKind.Array ? indent : indent + 2);
    }

    /// <summary>An array item, written after its "- ": an object's first key goes on the same line.</summary>
    private static void WriteItem(StringBuilder yaml, JsonElement item, int indent)
    {
        if (!IsBlock(item))
        {
            yaml.Append(Scalar(item)).Append('\n');
            return;
        }
        if (item.ValueKind == JsonValueKind.Array)
        {
            yaml.Append('\n');
            WriteBlock(yaml, item, indent);
            return;
        }
        bool first = true;
        foreach (var property in item.EnumerateObject())
        {
            if (!first) yaml.Append(' ', indent);
            first = false;
            yaml.Append(Key(property.Name)).Append(':');
            WriteAfterKey(yaml, property.Value, indent);
        }
    }

    private static string Key(string name) => IsPlain(name) ? name : Quote(name);

    private static string Scalar(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Null or JsonValueKind.Undefined => "null",
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Number => e.GetRawText(),
        JsonValueKind.Object => "{}",
        JsonValueKind.Array => "[]",
        _ => e.GetString() is { } s && IsPlain(s) ? s : Quote(e.GetString() ?? ""),
    };

    private static readonly string[] s_reserved = ["null", "~", "true", "false", "yes", "no", "on", "off", "y", "n", ".nan", ".inf", "-.inf"];

    /// <summary>Safe to write unquoted: starts with a letter, '/', '_' or '.', no ": " or " #", no trailing ':' or space, not a reserved word.</summary>
    public static bool IsPlain(string s)
    {
        if (s.Length == 0 || s[^1] is ':' or ' ') return false;
        if (!(char.IsAsciiLetter(s[0]) || s[0] is '/' or '_' or '.')) return false;
        if (s_reserved.Contains(s, StringComparer.OrdinalIgnoreCase)) return false;
        if (s.Contains(": ", StringComparison.Ordinal) || s.Contains(" #", StringComparison.Ordinal)) return false;
        if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out _)) return false;
        foreach (char c in s)
        {
            if (char.IsControl(c) || c is '"' or '\'' or '`' or '{' or '}' or '[' or ']' or ',' or '&' or '*' or '!' or '|' or '>' or '%' or '@') return false;
        }
        return true;
    }

    private static string Quote(string s) => JsonSerializer.Serialize(s, s_quote);

    private static readonly JsonSerializerOptions s_quote = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
