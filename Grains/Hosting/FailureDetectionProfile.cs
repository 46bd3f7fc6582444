namespace Cluster.Grains.Hosting;

/// <summary>
/// The failure-detection profiles a silo can run (<see cref="TrainingClusterOptions.FailureDetection"/>):
/// <see cref="Fast"/> for one machine, <see cref="Fleet"/> for many.
/// </summary>
public static class FailureDetectionProfile
{
    /// <summary>One vote, 1 s probes: see <see cref="FastFailureDetection"/>.</summary>
    public const string Fast = "fast";

    /// <summary>Two votes, 2 s adaptive probes, indirect probes: see <see cref="FleetFailureDetection"/>.</summary>
    public const string Fleet = "fleet";

    public static IReadOnlyList<string> All { get; } = [Fast, Fleet];

    /// <summary>The profile's canonical spelling, or null when <paramref name="name"/> is none of <see cref="All"/>.</summary>
    public static string? Normalize(string? name) => All.FirstOrDefault(p => string.Equals(p, name?.Trim(), StringComparison.OrdinalIgnoreCase));

    /// <summary>Configures Orleans membership with the profile <paramref name="name"/> (validated by <see cref="TrainingClusterOptions.Validate"/>).</summary>
    public static ISiloBuilder UseFailureDetection(this ISiloBuilder silo, string name) => Normalize(name) switch
    {
        Fast => silo.UseFastFailureDetection(),
        Fleet => silo.UseFleetFailureDetection(),
        _ => throw new ArgumentException(Problem(name), nameof(name)),
    };

    /// <summary>The error for a name that is no profile: names the value and the allowed ones.</summary>
    public static string Problem(string? name) =>
        $"{nameof(TrainingClusterOptions.FailureDetection)} = '{name}' is not a failure-detection profile: use '{Fast}' (one machine: one vote, ≈ 1–2 s) or '{Fleet}' (many machines: two votes, slow silos are not evicted).";
}
