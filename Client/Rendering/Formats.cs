using System.Globalization;
using Cluster.Grains.Interfaces.Jobs;

namespace Cluster.Client.Rendering;

/// <summary>Numbers, sizes, durations and states as people read them (invariant culture: output is the same everywhere).</summary>
internal static class Formats
{
    private static readonly CultureInfo s_culture = CultureInfo.InvariantCulture;

    public static string Bytes(long? bytes) => bytes switch
    {
        null => "-",
        >= 1L << 30 => (bytes.Value / (double)(1L << 30)).ToString("0.0", s_culture) + " GiB",
        >= 1L << 20 => (bytes.Value / (double)(1L << 20)).ToString("0.0", s_culture) + " MiB",
        >= 1L << 10 => (bytes.Value / (double)(1L << 10)).ToString("0.0", s_culture) + " KiB",
        _ => bytes.Value.ToString(s_culture) + " B",
    };

    public static string Ms(double? ms) => ms is null or <= 0 ? "-" : ms.Value.ToString(ms.Value < 10 ? "0.0" : "0", s_culture) + " ms";

    /// <summary>A share (0–1) as a whole percentage, "-" when unknown.</summary>
    public static string Percent(double? share) => share is null ? "-" : (share.Value * 100).ToString("0", s_culture) + " %";

    public static string Loss(double? loss) => loss is null ? "-" : loss.Value.ToString("0.0000", s_culture);

    public static string Number(double value, string format = "N0") => value.ToString(format, s_culture);

    public static string Duration(double? seconds)
    {
        if (seconds is null || double.IsNaN(seconds.Value)) return "-";
        var t = TimeSpan.FromSeconds(Math.Max(0, Math.Round(seconds.Value)));
        return t.TotalHours >= 1 ? $"{(int)t.TotalHours}h{t.Minutes:00}m" : t.TotalMinutes >= 1 ? $"{t.Minutes}m{t.Seconds:00}s" : $"{t.Seconds}s";
    }

    public static string Age(double? seconds) => seconds is null ? "never" : seconds.Value < 10
        ? seconds.Value.ToString("0.0", s_culture) + " s ago"
        : Duration(seconds) + " ago";

    /// <summary>Replicas running now, with the range when the job is elastic: "2 (1–4)"; just "1" when min = max.</summary>
    public static string Replicas(int running, int min, int max) =>
        min == max ? running.ToString(s_culture) : $"{running.ToString(s_culture)} ({min.ToString(s_culture)}–{max.ToString(s_culture)})";

    public static string Time(DateTimeOffset at) => at.ToUniversalTime().ToString("HH:mm:ss.fff", s_culture);

    /// <summary>Spectre markup colour of a job state.</summary>
    public static string Colour(JobState state) => state switch
    {
        JobState.Completed => "green",
        JobState.Running or JobState.Checkpointing => "blue",
        JobState.Failed => "red",
        JobState.Cancelled => "grey",
        JobState.Recovering or JobState.WaitingForCapacity => "yellow",
        _ => "default",
    };

    /// <summary>Spectre markup colour of a node state.</summary>
    public static string NodeColour(string state) => state switch
    {
        "Ready" => "green",
        "Starting" => "blue",
        "Unknown" => "grey",
        _ => "red",
    };
}
