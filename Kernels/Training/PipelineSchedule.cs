namespace Cluster.Kernels.Training;

/// <summary>Order of forward and backward passes over a step's micro-batches. Both give the same bits.</summary>
public enum PipelineSchedule
{
    /// <summary>Every micro-batch forward, then every backward (GPipe): simplest, holds M activations per stage.</summary>
    GPipe,

    /// <summary>
    /// One forward, one backward (1F1B): a micro-batch's backward follows its forward as soon as possible, so a stage
    /// holds at most P activations. Run by one thread, it is each micro-batch's forward then its backward.
    /// </summary>
    OneForwardOneBackward,
}
