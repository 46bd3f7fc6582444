using Cluster.Grains.Interfaces.Messages;
using Orleans.Concurrency;

namespace Cluster.Grains.Interfaces.Stages;

/// <summary>
/// A slice of a job's model on one node. Key: <see cref="StageKeys.Stage"/>. Activated on its node's silo; its
/// module and optimizer state live there, on the node's device worker. Activations go straight to the next stage and
/// gradients come straight back; every call carries the job's epoch and a stale one is rejected.
/// </summary>
[Alias("cluster.IPipelineStageGrain")]
public interface IPipelineStageGrain : IGrainWithStringKey
{
    /// <summary>Builds (or rebuilds) the stage on its node and loads its state; fences out older epochs.</summary>
    [Alias("Configure")]
    Task Configure(StageAssignment assignment);

    /// <summary>
    /// Forward of one micro-batch (the first stage samples its tokens itself), passed on to the next stage, whose
    /// result carries the gradient of this stage's output; then this stage's backward. Returns the loss and the
    /// gradient of this stage's input.
    /// </summary>
    [Alias("RunMicroBatch")]
    Task<MicroBatchResult> RunMicroBatch(long epoch, long step, int microBatch, TensorPayload? input);

    /// <summary>
    /// Segment <paramref name="index"/> (from 1) of a tensor sent to this stage whose header follows: the input
    /// activations of micro-batch <paramref name="microBatch"/> (its <see cref="RunMicroBatch"/>), or, when
    /// <paramref name="gradient"/>, the gradient of this stage's output that the next stage returns in its
    /// <see cref="MicroBatchResult"/>. Held until the header comes (see <see cref="Messages.TensorPayload.SeparateSegments"/>).
    /// </summary>
    [Alias("AcceptTensorSegment")]
    Task AcceptTensorSegment(long epoch, long step, int microBatch, bool gradient, int index, Immutable<byte[]> data);

    /// <summary>
    /// Finalises the step's gradients — with several replicas, all-reduces them first with the same stage of the
    /// others (every replica's stage is called at once; see <see cref="GetGradientChunk"/>) — and returns per-parameter
    /// squared norms in global order.
    /// </summary>
    [Alias("GradientSquares")]
    Task<double[]> GradientSquares(long epoch, long step);

    /// <summary>
    /// All-reduce, reduce-scatter half: this replica's local gradient values in chunk <paramref name="chunk"/> (the
    /// chunk the replica of that rank reduces). Waits until this replica's micro-batches are all back-propagated.
    /// </summary>
    /// <remarks>
    /// Immutable: neither side writes the values once sent, so a replica on the same silo gets them without a copy
    /// (measured: Orleans' copy of these arrays was ≈ 4 % of the thread time outside the compute of a 2-replica job on
    /// one silo, and it sat on the all-reduce's critical path).
    /// </remarks>
    [Alias("GetGradientChunk")]
    Task<Immutable<float[]>> GetGradientChunk(long epoch, long step, int chunk);

    /// <summary>All-reduce, all-gather half: the reduced values of this replica's own chunk, once reduced; immutable like <see cref="GetGradientChunk"/>'s.</summary>
    [Alias("GetReducedChunk")]
    Task<Immutable<float[]>> GetReducedChunk(long epoch, long step);

    /// <summary>
    /// <see cref="GetGradientChunk"/>, <paramref name="count"/> values of it from <paramref name="offset"/>: a chunk
    /// goes in ranges of at most <c>TrainingCluster:TensorSegmentBytes</c>, so no message nears Orleans' message
    /// size limit however large the stage (the caller names the range, so peers need not share the setting).
    /// </summary>
    [Alias("GetGradientRange")]
    Task<Immutable<float[]>> GetGradientRange(long epoch, long step, int chunk, int offset, int count);

    /// <summary><see cref="GetReducedChunk"/>, <paramref name="count"/> values of it from <paramref name="offset"/> (see <see cref="GetGradientRange"/>).</summary>
    [Alias("GetReducedRange")]
    Task<Immutable<float[]>> GetReducedRange(long epoch, long step, int offset, int count);

    /// <summary>This stage's own in-memory snapshot of <paramref name="completedSteps"/>, or null (for a peer replica's restore).</summary>
    [Alias("GetSnapshot")]
    Task<IReadOnlyList<Checkpoints.UnitImage>?> GetSnapshot(long completedSteps);

    /// <summary>A chunk of that snapshot that <see cref="GetSnapshot"/> counted in <see cref="Checkpoints.UnitImage.SeparateChunks"/> (see <see cref="Checkpoints.ICheckpointShardGrain.GetSnapshotChunk"/>).</summary>
    [Alias("GetSnapshotChunk")]
    Task<byte[]?> GetSnapshotChunk(long completedSteps, int unitIndex, int index);

    /// <summary>Clips and applies the optimizer step; returns the stage's device time for the whole step, in ms (for straggler detection).</summary>
    [Alias("ApplyUpdate")]
    Task<double> ApplyUpdate(long epoch, long step, double clipCoefficient);

    /// <summary>
    /// Snapshots the stage's state (between steps) and hands it to its checkpoint shard, which writes it to the
    /// checkpoint store when <paramref name="durable"/>, else only keeps it in memory; returns once taken.
    /// <paramref name="stepLoss"/>: the loss of the step that produced the state, recorded with every copy
    /// (<see cref="Checkpoints.SnapshotRecord"/>); null when the job has none to give.
    /// </summary>
    [Alias("Snapshot")]
    Task Snapshot(long epoch, long completedSteps, bool durable, double? stepLoss);

    /// <summary>
    /// The device-side half of a snapshot (between steps): copies the stage's state of <paramref name="completedSteps"/>
    /// off the device and returns, the device free for the next step; encoding, hashing and handing the copy to the
    /// holders — which also write it to the checkpoint store when <paramref name="durable"/> — go on in the background
    /// (<see cref="SnapshotHeld"/>). At most one such snapshot is in flight per stage: the next one first waits for it.
    /// </summary>
    [Alias("BeginSnapshot")]
    Task BeginSnapshot(long epoch, long completedSteps, bool durable, double? stepLoss);

    /// <summary>Completes once the snapshot <see cref="BeginSnapshot"/> started for <paramref name="completedSteps"/> is held (kept, and acknowledged by every holder); its failure if it failed.</summary>
    [Alias("SnapshotHeld")]
    Task SnapshotHeld(long epoch, long completedSteps);

    /// <summary>The completed-step count of this stage's own copy of its latest snapshot, or -1 (no copy).</summary>
    [Alias("GetSnapshotStep")]
    Task<long> GetSnapshotStep();

    /// <summary>The completed-step counts of the stage's own snapshot copies (the newest two), oldest first.</summary>
    [Alias("GetSnapshotSteps")]
    Task<long[]> GetSnapshotSteps();

    /// <summary>The records of the stage's own snapshot copies (those of <see cref="GetSnapshotSteps"/>), oldest first.</summary>
    [Alias("GetSnapshotRecords")]
    Task<Checkpoints.SnapshotRecord[]> GetSnapshotRecords();

    /// <summary>
    /// The step of this stage's live state — the optimizer updates it has applied — while it serves epoch
    /// <paramref name="epoch"/>; −1 when it serves another epoch or holds no state. With data-parallel replicas a rank
    /// that keeps no snapshots still holds, live, the state every replica has after that step: a recovery counts it as
    /// a copy (<see cref="KeepLiveState"/>).
    /// </summary>
    [Alias("GetLiveStateStep")]
    Task<long> GetLiveStateStep(long epoch);

    /// <summary>
    /// Keeps this stage's live state of <paramref name="completedSteps"/> as its own in-memory copy (what
    /// <see cref="GetSnapshot"/> then serves, and its own next <see cref="Configure"/> restores from), if it still
    /// serves epoch <paramref name="epoch"/> and its state is of that very step (checked on the device, in order with
    /// any update still queued there). True when it holds a copy of that step now.
    /// </summary>
    [Alias("KeepLiveState")]
    Task<bool> KeepLiveState(long epoch, long completedSteps);

    /// <summary>Drops the stage's state and deactivates.</summary>
    [Alias("Release")]
    Task Release(long epoch);

    /// <summary>
    /// Drops the stage's state on its device (its memory there is free at once) but keeps its own snapshot copies
    /// readable (<see cref="GetSnapshot"/>): a replica the job drops in a recovery may hold the only copy left, which the
    /// staying replicas restore from; <see cref="Release"/> afterwards lets it go.
    /// </summary>
    [Alias("ReleaseDevice")]
    Task ReleaseDevice(long epoch);
}
