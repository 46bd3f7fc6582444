using System.Globalization;

namespace Cluster.Bench;

/// <summary>"--name value" options of a benchmark, with typed defaults and a clear error for unknown or bad ones.</summary>
internal sealed class BenchArguments
{
    private readonly Dictionary<string, string> _values;
    private readonly HashSet<string> _used = [];

    private BenchArguments(Dictionary<string, string> values) => _values = values;

    public static BenchArguments Parse(ReadOnlySpan<string> args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
                throw new ArgumentException($"Bad argument '{args[i]}': options are given as '--name value' (or '--flag' alone).");
            // A flag (an option followed by another option or by nothing) reads as "true".
            bool isFlag = i + 1 >= args.Length || args[i + 1].StartsWith("--", StringComparison.Ordinal);
            values[args[i][2..]] = isFlag ? "true" : args[++i];
        }
        return new BenchArguments(values);
    }

    public int Int(string name, int fallback)
    {
        _used.Add(name);
        if (!_values.TryGetValue(name, out var text)) return fallback;
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value >= 0
            ? value
            : throw new ArgumentException($"--{name} '{text}' is not a non-negative integer.");
    }

    public double Double(string name, double fallback)
    {
        _used.Add(name);
        if (!_values.TryGetValue(name, out var text)) return fallback;
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && double.IsFinite(value) && value >= 0
            ? value
            : throw new ArgumentException($"--{name} '{text}' is not a non-negative number.");
    }

    /// <summary>Whether the option was given (and marks it as known).</summary>
    public bool Has(string name)
    {
        _used.Add(name);
        return _values.ContainsKey(name);
    }

    public string String(string name, string fallback)
    {
        _used.Add(name);
        return _values.GetValueOrDefault(name, fallback);
    }

    /// <summary>Fails on options no benchmark asked for (typos), naming them and the known ones.</summary>
    public void EnsureAllUsed()
    {
        var unknown = _values.Keys.Where(k => !_used.Contains(k)).ToArray();
        if (unknown.Length > 0)
            throw new ArgumentException($"Unknown option(s) {string.Join(", ", unknown.Select(u => "--" + u))}; this benchmark takes {string.Join(", ", _used.Select(u => "--" + u))}.");
    }
}
