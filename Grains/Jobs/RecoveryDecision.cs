namespace Cluster.Grains.Jobs;

/// <summary>
/// The recovery policy's answer to a failure: recover after <paramref name="Delay"/>, or fail for good;
/// <paramref name="Reason"/> is one line (the cause, or why the budget is spent).
/// </summary>
internal readonly record struct RecoveryDecision(bool Recover, TimeSpan Delay, string Reason);
