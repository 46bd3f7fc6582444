using System.Security.Cryptography;
using Cluster.Grains.Checkpoints;
using Cluster.Grains.Compute;
using Cluster.Grains.Hosting;
using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Messages;
using Cluster.Grains.Interfaces.Stages;
using Cluster.Grains.Jobs;
using Cluster.Grains.Placement;
using Cluster.Kernels.Checkpoint;
using Cluster.Kernels.Data;
using Cluster.Kernels.Model;
using Cluster.Kernels.Training;
using Cluster.Kernels.Wire;
using Microsoft.Extensions.Logging;

namespace Cluster.Grains.Stages;

/// <summary>The stage's gradient all-reduce across data-parallel replicas (reduce-scatter, then all-gather; see the class comment).</summary>
internal sealed partial class PipelineStageGrain
{
    /// <summary>One step's all-reduce as this rank sees it: its local gradients, and its reduced chunk once reduced.</summary>
    private sealed class StepReduction(long epoch, long step)
    {
        public long Epoch { get; } = epoch;

        public long Step { get; } = step;

        public TaskCompletionSource<float[]> Local { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource<float[]> Reduced { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>This rank's backward passes of the step finished so far.</summary>
        public int BackwardsDone { get; set; }

        /// <summary>This rank's all-reduce of the step, once started.</summary>
        public Task? Run { get; set; }
    }

    /// <summary>
    /// Counts a finished backward pass; after this replica's last one of the step, a data-parallel stage starts its
    /// all-reduce at once instead of when the job asks for the gradient norms (<see cref="GradientSquares"/>, which then
    /// joins it). So the reduction overlaps the backward passes still running on the stages before this one, and the
    /// round trip through the job — as DDP overlaps its buckets' all-reduce with the rest of the backward pass. The
    /// bits do not change: each chunk is still reduced from every rank's values in the canonical order. A pass of an
    /// epoch or step this stage has left counts for nothing (its reduction would replace the live one).
    /// </summary>
    private void BackwardDone(long epoch, long step, StageExecutor executor, DeviceWorker worker)
    {
        if (_replicaIds.Length < 2 || epoch != _epoch || !ReferenceEquals(executor, _executor) || step != executor.CompletedSteps) return;
        var reduction = Reduction(epoch, step);
        if (++reduction.BackwardsDone == _microBatches)
            _ = StartAllReduce(reduction, executor, worker);
    }

    /// <summary>The step's all-reduce: started by the first of the last backward pass and the job's call, joined by the other.</summary>
    private Task StartAllReduce(StepReduction reduction, StageExecutor executor, DeviceWorker worker)
    {
        if (reduction.Run is null)
        {
            reduction.Run = AllReduce(reduction.Epoch, reduction.Step, executor, worker);
            // A step abandoned before the job asked (a failure elsewhere, a new epoch) leaves its failure unobserved: observe it.
            _ = reduction.Run.ContinueWith(t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        }
        return reduction.Run;
    }

    /// <summary>
    /// Reduce-scatter then all-gather over the same stage of every replica; leaves the reduced gradients in the executor.
    /// A failure (a device error, a peer's call) fails this rank's halves too: peers waiting for its local or reduced
    /// chunk hear of it at once rather than at their call's time-out or the next epoch.
    /// </summary>
    private async Task AllReduce(long epoch, long step, StageExecutor executor, DeviceWorker worker)
    {
        var reduction = Reduction(epoch, step);
        try
        {
            await ReduceScatterAllGather(reduction, epoch, step, executor, worker);
        }
        catch (Exception e)
        {
            var failed = new InvalidOperationException($"Stage {this.GetPrimaryKeyString()}'s all-reduce of step {step + 1} failed: {ShortError.Of(e)}", e);
            reduction.Local.TrySetException(failed);
            reduction.Reduced.TrySetException(failed);
            _ = reduction.Local.Task.Exception; // observed: no peer may be waiting for either
            _ = reduction.Reduced.Task.Exception;
            throw;
        }
    }

    private async Task ReduceScatterAllGather(StepReduction reduction, long epoch, long step, StageExecutor executor, DeviceWorker worker)
    {
        var local = await OnDevice(worker, executor.LocalGradients);
        _stepComputeMs += local.Ran.TotalMilliseconds;
        reduction.Local.TrySetResult(local.Value);

        // Copies on this critical path (every rank's device waits for it) are kept to those the protocol needs: a
        // peer's chunk of this rank's gradients, the reduced chunk (shared with every peer). This rank's own part is
        // read in place and the reduced chunks go straight into the gradients; the arrays are reused (executor.Reduction).
        int ranks = _replicaIds.Length;
        var (start, end) = ReplicaReduction.Chunk(local.Value.Length, ranks, _rank);
        var parts = await Task.WhenAll(Enumerable.Range(0, ranks).Select(async q => q == _rank
            ? new ReadOnlyMemory<float>(local.Value, start, end - start)
            : await InRanges(end - start, (offset, count) => Peer(q).GetGradientRange(epoch, step, _rank, offset, count))));
        Fenced(epoch, step);
        var into = executor.Reduction.Reduced(end - start);
        var reduced = await OnDevice(worker, () => ReplicaReduction.Sum(parts, into));
        _stepComputeMs += reduced.Ran.TotalMilliseconds;
        reduction.Reduced.TrySetResult(reduced.Value);

        var chunks = await Task.WhenAll(Enumerable.Range(0, ranks).Select(q =>
        {
            var (from, to) = ReplicaReduction.Chunk(local.Value.Length, ranks, q);
            return q == _rank ? Task.FromResult(reduced.Value) : InRanges(to - from, (offset, count) => Peer(q).GetReducedRange(epoch, step, offset, count));
        }));
        Fenced(epoch, step);
        var applied = await OnDevice(worker, () => { executor.UseReducedGradients(chunks); return true; });
        _stepComputeMs += applied.Ran.TotalMilliseconds;
    }

    public async Task<Immutable<float[]>> GetGradientChunk(long epoch, long step, int chunk)
    {
        var (_, local, start, end) = await LocalChunk(epoch, step, chunk);
        return new Immutable<float[]>(local[start..end]); // a copy of its own: nothing here writes it after
    }

    public async Task<Immutable<float[]>> GetReducedChunk(long epoch, long step)
    {
        Fenced(epoch, step);
        return new Immutable<float[]>(await Reduction(epoch, step).Reduced.Task.WaitAsync(_epochCalls.Token)); // only read, here and by every peer
    }

    public async Task<Immutable<float[]>> GetGradientRange(long epoch, long step, int chunk, int offset, int count)
    {
        var (executor, local, start, end) = await LocalChunk(epoch, step, chunk);
        if (offset == 0 && count == end - start)
        {
            // The whole chunk (every chunk under a segment): a copy into the array kept for that chunk, which nothing
            // here writes again before the next step's all-reduce (ReductionBuffers).
            var whole = executor.Reduction.Outgoing(chunk, count);
            local.AsSpan(start, count).CopyTo(whole);
            return new Immutable<float[]>(whole);
        }
        return new Immutable<float[]>(Range(local, start, end, offset, count)); // a copy of its own: nothing here writes it after
    }

    /// <summary>This rank's local gradients of the step, once back-propagated, and where chunk <paramref name="chunk"/> lies in them.</summary>
    private async Task<(StageExecutor Executor, float[] Local, int Start, int End)> LocalChunk(long epoch, long step, int chunk)
    {
        Fenced(epoch, step);
        if (chunk < 0 || chunk >= _replicaIds.Length)
            throw new ArgumentOutOfRangeException(nameof(chunk), chunk, $"Stage {this.GetPrimaryKeyString()} has {_replicaIds.Length} replicas, so chunks 0…{_replicaIds.Length - 1}.");
        var local = await Reduction(epoch, step).Local.Task.WaitAsync(_epochCalls.Token);
        var (executor, _) = Fenced(epoch, step); // a configuration may have come between (its executor's arrays are not this epoch's to write)
        var (start, end) = ReplicaReduction.Chunk(local.Length, _replicaIds.Length, chunk);
        return (executor, local, start, end);
    }

    public async Task<Immutable<float[]>> GetReducedRange(long epoch, long step, int offset, int count)
    {
        Fenced(epoch, step);
        var reduced = await Reduction(epoch, step).Reduced.Task.WaitAsync(_epochCalls.Token);
        // The whole chunk is sent as it is (only read, here and by every peer); a part of it is a copy.
        return new Immutable<float[]>(offset == 0 && count == reduced.Length ? reduced : Range(reduced, 0, reduced.Length, offset, count));
    }

    /// <summary>Values [<paramref name="offset"/>, +<paramref name="count"/>) of the chunk [<paramref name="start"/>, <paramref name="end"/>) of <paramref name="values"/>, as a copy.</summary>
    private float[] Range(float[] values, int start, int end, int offset, int count)
    {
        if (offset < 0 || count < 0 || offset + count > end - start)
            throw new ArgumentOutOfRangeException(nameof(offset), $"Stage {this.GetPrimaryKeyString()}: values {offset}…{offset + count} asked of a chunk of {end - start}: the replicas run different stage plans.");
        return values[(start + offset)..(start + offset + count)];
    }

    /// <summary>
    /// A peer's chunk of <paramref name="length"/> values, fetched in ranges of at most
    /// <see cref="TrainingClusterOptions.TensorSegmentBytes"/>, one after another (each message stays small; the
    /// peers' chunks come in parallel), or this stage's epoch ending first.
    /// </summary>
    private async Task<float[]> InRanges(int length, Func<int, int, Task<Immutable<float[]>>> fetch)
    {
        int most = Math.Max(1, options.Value.TensorSegmentBytes / sizeof(float));
        float[] values = length <= most ? [] : new float[length]; // filled only when the chunk takes several calls
        int offset = 0;
        do
        {
            int count = Math.Min(most, length - offset);
            var part = (await fetch(offset, count).WaitAsync(_epochCalls.Token)).Value;
            if (part.Length != count)
                throw new InvalidOperationException($"A replica sent {part.Length} values for {offset}…{offset + count} of a chunk of {length}: the replicas run different stage plans.");
            if (count == length) return part; // the whole chunk in one call (every chunk under a segment): no copy
            part.CopyTo(values, offset);
            offset += count;
        }
        while (offset < length);
        return values;
    }

    /// <summary>This step's all-reduce (made by whichever of the job's call or a peer's arrives first).</summary>
    private StepReduction Reduction(long epoch, long step)
    {
        if (_reduction is null || _reduction.Epoch != epoch || _reduction.Step != step)
            _reduction = new StepReduction(epoch, step);
        return _reduction;
    }

    private IPipelineStageGrain Peer(int rank) =>
        GrainFactory.GetGrain<IPipelineStageGrain>(StageKeys.Stage(_assignment!.Job.JobId, _replicaIds[rank], _executor!.Stage));
}
