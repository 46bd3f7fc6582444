namespace Cluster.Grains.Interfaces.Jobs;

/// <summary>What a <see cref="JobState"/> means, in one place for the job grain, its state writer and the console.</summary>
public static class JobStates
{
    /// <summary>The job has ended (completed, failed or cancelled): nothing runs it, nothing revives it.</summary>
    public static bool IsTerminal(this JobState state) => state is JobState.Completed or JobState.Failed or JobState.Cancelled;
}
