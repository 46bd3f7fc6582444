using System.Diagnostics;
using Cluster.Grains.Checkpoints;
using Cluster.Grains.Compute;
using Cluster.Grains.Hosting;
using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Nodes;
using Cluster.Grains.Interfaces.Stages;
using Cluster.Grains.Placement;
using Cluster.Grains.Stages;
using Cluster.Kernels.Model;
using Cluster.Kernels.Training;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Storage;
using Orleans.Streams;

namespace Cluster.Grains.Jobs;

/// <summary>One training step across every replica's pipeline; no persistence, no events.</summary>
internal sealed partial class TrainingJobGrain
{
    private long _lastCountTimestamp; // when the last step counted (Stopwatch ticks)
    // The losses of the steps whose update was sent but which are not counted yet (at most two with overlap), keyed by
    // the steps completed after each, and the epoch they were sent in: a live replica that applied such an update holds
    // that step's state before any snapshot of it is held (see RecoveryPoint).
    private readonly Dictionary<long, double> _sentUpdateLosses = [];
    private long _sentUpdateEpoch = -1;

    /// <summary>
    /// Runs <paramref name="step"/> (<c>S.CompletedSteps</c>, or the one after while that one's snapshot is in flight)
    /// up to the optimizer update on every stage. It does not count the step: that is <see cref="CountStep"/>'s, once
    /// the step's snapshots are held (the commit point, see <c>Run</c>). <paramref name="stop"/>, when it completes,
    /// ends the step like a lost node: its caller failed meanwhile.
    /// </summary>
    private async Task<TrainedStep> TrainStep(JobSpec spec, StagePlan plan, ReplicaStages stages, long step, Task? stop)
    {
        using var activity = Telemetry.TrainingActivities.Step(spec.JobId, S.Epoch, step);
        long started = Stopwatch.GetTimestamp();
        var startedAt = time.GetUtcNow();
        long epoch = S.Epoch;
        using var watch = _watchdog.Start(step, reason => _abort.TrySetResult(reason)); // a hung step is abandoned like a lost node
        int m = spec.MicroBatches;
        var losses = new double[m];
        double compute = 0, queue = 0, messaging = 0;

        // Each replica runs its block of the global micro-batches through its own pipeline; 1F1B keeps at most P
        // micro-batches in a pipe, GPipe lets the whole block in.
        int ranks = stages.Count;
        int k = ReplicaSplit.PerReplica(m, ranks);
        int window = spec.Schedule == "gpipe" ? k : Math.Min(k, plan.StageCount);
        await Guard(stop, Task.WhenAll(Enumerable.Range(0, ranks).Select(RunReplica)));

        // Every replica's stage is asked at once: the same stage of all replicas all-reduce their gradients first.
        var reduce = Stopwatch.StartNew();
        var squares = await Guard(stop, Task.WhenAll(stages.All.Select(s => watch.Track(s.GradientSquares(epoch, step), $"{s.GetPrimaryKeyString()}.GradientSquares"))));
        double norm = GradientNorm.Global(squares.Take(plan.StageCount)); // rank 0's, in stage order: every rank's are the same
        double coefficient = GradientNorm.ClipCoefficient(norm, spec.Optimizer.ClipNorm);
        double loss = LossReduction.Mean(losses);
        if (_sentUpdateEpoch != epoch) _sentUpdateLosses.Clear();
        _sentUpdateEpoch = epoch;
        _sentUpdateLosses[step + 1] = loss;
        double[] deviceMs = await Guard(stop, Task.WhenAll(stages.All.Select(s => watch.Track(s.ApplyUpdate(epoch, step, coefficient), $"{s.GetPrimaryKeyString()}.ApplyUpdate"))));
        reduce.Stop();

        return new TrainedStep(step, loss, started, compute, queue, messaging, reduce.Elapsed.TotalMilliseconds, deviceMs, startedAt);

        async Task RunReplica(int rank)
        {
            var inFlight = new List<Task>(window);
            for (int micro = rank * k; micro < (rank + 1) * k; micro++)
            {
                if (inFlight.Count >= window)
                {
                    var finished = await Guard(stop, Task.WhenAny(inFlight));
                    await finished; // surface its failure now
                    inFlight.Remove(finished);
                }
                inFlight.Add(RunMicroBatch(stages.ByRank[rank][0], micro));
            }
            await Guard(stop, Task.WhenAll(inFlight));
        }

        async Task RunMicroBatch(IPipelineStageGrain first, int micro)
        {
            long started = Stopwatch.GetTimestamp();
            var result = await watch.Track(first.RunMicroBatch(epoch, step, micro, null), $"{first.GetPrimaryKeyString()}.RunMicroBatch(micro-batch {micro})");
            double roundTrip = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            losses[micro] = result.Loss;
            compute += result.ComputeMs;
            queue += result.QueueMs;
            messaging += Math.Max(0, roundTrip - result.ComputeMs - result.QueueMs);
        }
    }

    /// <summary>
    /// The commit point: step <paramref name="done"/> counts as completed — progress saved, status published, its loss
    /// recorded as final. <c>Run</c> calls it only once the step's snapshots are held (see the invariant there).
    /// </summary>
    private async Task CountStep(JobSpec spec, TrainedStep done)
    {
        long now = Stopwatch.GetTimestamp();
        var elapsed = Stopwatch.GetElapsedTime(done.StartedTimestamp, now); // the whole step, its snapshot wait included
        int m = spec.MicroBatches;
        S.CompletedSteps = done.Step + 1;
        _writer.AddLoss(done.Loss);
        foreach (long counted in _sentUpdateLosses.Keys.Where(k => k <= S.CompletedSteps).ToArray()) _sentUpdateLosses.Remove(counted);
        // The rate: with steps overlapping (the next one computes while this one's snapshot is held), a step's own span
        // overlaps the next one's; the time since the step before counted is what each step costs.
        double seconds = _lastCountTimestamp > done.StartedTimestamp
            ? Math.Min(elapsed.TotalSeconds, Stopwatch.GetElapsedTime(_lastCountTimestamp, now).TotalSeconds)
            : elapsed.TotalSeconds;
        _lastCountTimestamp = now;
        _secondsPerStep = _secondsPerStep == 0 ? seconds : 0.8 * _secondsPerStep + 0.2 * seconds;
        _tokensPerSecond = (double)m * spec.MicroBatchSize * spec.Model.ContextLength / _secondsPerStep;
        TrainingMetrics.StepCompleted(spec.JobId, (long)m * spec.MicroBatchSize * spec.Model.ContextLength, done.Loss, elapsed);
        _timings.Add(new StepTiming(done.Step, elapsed.TotalMilliseconds, done.ComputeMs, done.QueueMs, done.MessagingMs, done.ReduceMs, done.StartedAt));
        if (_timings.Count > TimingsKept) _timings.RemoveAt(0);
        _writer.Request(); // in the background: a slow or unreachable store never holds a step up
        await Publish(null);
        await WatchForStragglers(spec, done.DeviceMs);
    }

    /// <summary>
    /// Feeds the step's device time per stage to the straggler detector; a flagged node is reported to the scheduler,
    /// and its stages move at the next step boundary when a spare node can take them.
    /// </summary>
    private async Task WatchForStragglers(JobSpec spec, double[] deviceMs)
    {
        if (_stragglers is null || S.Placement.Count != deviceMs.Length || _stageCosts.Length != deviceMs.Length) return;
        string[] nodes = [.. S.Placement.Select(p => p.NodeId)]; // rank by rank, stage by stage: the order of deviceMs
        if (_stragglers.Observe(nodes, deviceMs, _stageCosts) is not { } straggler) return;
        LogStraggler(logger, spec.JobId, straggler.NodeId, straggler.Reason);
        bool? spare = await SchedulerAdvice<bool?>("a spare node for a straggler", async s => await s.ReportStraggler(spec.JobId, straggler.NodeId, straggler.Reason));
        if (spare is null)
            _stragglers.Unreported(straggler.NodeId); // reported again at the next step while it still lags
        else if (spare.Value)
            _mailbox.RequestMove(straggler.NodeId, $"node {straggler.NodeId} is a straggler ({straggler.Reason})");
    }

    /// <summary>Awaits <paramref name="work"/> unless the scheduler reports one of this job's nodes lost first.</summary>
    private async Task<T> Guard<T>(Task<T> work)
    {
        await Guard((Task)work);
        return await work;
    }

    private Task Guard(Task work) => Guard(null, work);

    private async Task<T> Guard<T>(Task? stop, Task<T> work)
    {
        await Guard(stop, (Task)work);
        return await work;
    }

    /// <summary><see cref="Guard(Task)"/>, ending early too (as <see cref="OperationCanceledException"/>) when <paramref name="stop"/> completes first.</summary>
    private async Task Guard(Task? stop, Task work)
    {
        var abort = _abort.Task;
        var first = await Task.WhenAny(stop is null ? [work, abort] : [work, abort, stop]);
        if (first != work)
        {
            _ = work.ContinueWith(t => t.Exception, TaskScheduler.Default); // its late failure is expected; observe it
            if (first == abort) throw new NodeLostException(abort.Result);
            throw new OperationCanceledException("The step was stopped: the step before it failed.");
        }
        await work;
    }

    private static TaskCompletionSource<string> NewAbort() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
