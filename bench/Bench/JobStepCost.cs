namespace Cluster.Bench;

/// <summary>
/// What one step of a job cost, per step over the measured window: wall time, this process's CPU time (and the part of
/// it its device threads used), the wall time its device workers spent running operations (summed over them), full (gen 2) collections and GC pause; and the wall time per step of the warm-up steps before the window (from the first status
/// that shows a step done; 0 when the first poll already showed the warm-up done).
/// </summary>
internal readonly record struct JobStepCost(double WallMsPerStep, double CpuMsPerStep, double Gen2PerStep, double GcPauseMsPerStep, double WarmupWallMsPerStep = 0, double DeviceCpuMsPerStep = 0, double DeviceBusyMsPerStep = 0);
