namespace Cluster.Bench;

/// <summary>What one step of a job cost, per step over the measured window: wall time, this process's CPU time, full (gen 2) collections and GC pause.</summary>
internal readonly record struct JobStepCost(double WallMsPerStep, double CpuMsPerStep, double Gen2PerStep, double GcPauseMsPerStep);
