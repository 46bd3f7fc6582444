using Cluster.Grains.Interfaces.Checkpoints;

namespace Cluster.Grains.Interfaces.Jobs;

/// <summary>
/// One training job, key = job id. Validates its spec, places its stages through the scheduler, drives every step,
/// checkpoints, and publishes progress on <see cref="JobStreams"/>. Its state survives the loss of a silo.
/// </summary>
[Alias("cluster.ITrainingJobGrain")]
public interface ITrainingJobGrain : IGrainWithStringKey
{
    /// <summary>Validates and starts the job; throws <see cref="JobSpecInvalidException"/> listing every problem.</summary>
    [Alias("Submit")]
    Task<JobStatus> Submit(JobSpec spec);

    [Alias("GetStatus")]
    Task<JobStatus> GetStatus();

    [Alias("GetSpec")]
    Task<JobSpec?> GetSpec();

    /// <summary>Loss of every completed step, in order.</summary>
    [Alias("GetLossHistory")]
    Task<IReadOnlyList<double>> GetLossHistory();

    /// <summary>The scheduler's word that nodes this job may use are gone: the step in flight is abandoned and the job recovers.</summary>
    [Alias("NodesLost")]
    Task NodesLost(IReadOnlyList<string> nodeIds, string reason);

    [Alias("Cancel")]
    Task<JobStatus> Cancel();

    /// <summary>Time split of recent steps (kept in memory, for benchmarks and diagnosis).</summary>
    [Alias("GetStepTimings")]
    Task<IReadOnlyList<StepTiming>> GetStepTimings();

    /// <summary>Committed checkpoints, oldest first.</summary>
    [Alias("ListCheckpoints")]
    Task<IReadOnlyList<CheckpointManifest>> ListCheckpoints();
}
