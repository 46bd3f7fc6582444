namespace Cluster.Bench.Simulation;

/// <summary>
/// Figures of this control plane measured by the other benchmarks, the defaults of <c>simulate</c>'s flags for our
/// policies; each with where it comes from, printed with the run. Stall fractions are of a step of the demo model on
/// CPU; that they carry over to the 494B job's step is an assumption the output states.
/// </summary>
internal static class MeasuredFigures
{
    /// <summary>In-memory snapshot stall ÷ step time (<c>bench snapshot</c>, <c>stall_fraction</c>).</summary>
    public const double SnapshotStallFraction = 0.082;

    public const string SnapshotStallSource = "bench snapshot, stall_fraction (median of 5 rounds; 0.047–0.109 over them), 2026-12-03 07:11 UTC on a quiet 2-core machine, snapshots overlapping the next step (bench/README.md)";

    /// <summary>Durable checkpoint stall averaged over its interval ÷ step time (<c>bench snapshot</c>, <c>checkpoint_stall_fraction</c>).</summary>
    public const double CheckpointStallFraction = 0.020;

    public const string CheckpointStallSource = "bench snapshot, checkpoint_stall_fraction (median of 5 rounds; −0.002–0.043 over them), checkpoints every 10 steps, 2026-12-03 07:11 UTC on a quiet 2-core machine (bench/README.md)";

    /// <summary>A crashed (kill -9) silo process detected (<c>bench recovery</c>, <c>kill_detect_s</c>).</summary>
    public const double CrashDetectionSeconds = 0.81;

    public const string CrashDetectionSource = "bench recovery, kill_detect_s, run 3 in bench/README.md";

    /// <summary>A frozen (SIGSTOP) silo process detected (<c>bench recovery</c>, <c>hang_detect_s</c>): a whole-process hang, not a hung kernel in a live process.</summary>
    public const double HangDetectionSeconds = 0.86;

    public const string HangDetectionSource = "bench recovery, hang_detect_s (SIGSTOP of a silo process), run 3 in bench/README.md";
}
