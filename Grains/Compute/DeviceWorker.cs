using System.Collections.Concurrent;
using System.Diagnostics;
using Cluster.Grains.Interfaces.Nodes;
using Cluster.Kernels.Compute;
using TorchSharp;

namespace Cluster.Grains.Compute;

/// <summary>
/// The one thread that runs compute for a device. Work items run in arrival order, each as its own unit of work
/// (tensor dispose scopes are thread-static, so they never span an await), and never on an Orleans scheduler thread.
/// Results complete asynchronously so that grain continuations do not run on this thread. Publishes its progress —
/// when the operation in flight started (<see cref="InFlightSince"/>), when the last one finished — with the injected
/// <see cref="TimeProvider"/>, so the node's heartbeat can tell a hung device from a busy one.
/// </summary>
public sealed class DeviceWorker : IDisposable
{
    /// <summary>Work items: each runs the work and returns how to publish its outcome, which <see cref="Loop"/> does once the operation no longer counts as in flight.</summary>
    private readonly DeviceWorkQueue<Func<Action>> _queue = new();
    private readonly Thread _thread;
    private readonly StepTimeWindow _stepTimes;
    private int _errors;
    private int _consecutiveErrors;
    private string? _lastError;
    private readonly Queue<DateTimeOffset> _deviceErrorTimes = new(); // the recent ones, for the flaky-device budget; guarded by itself
    private readonly ConcurrentDictionary<string, NodeOccupant> _occupants = new(StringComparer.Ordinal); // by stage grain key
    private readonly TimeProvider _time;
    private readonly ComputeHang? _hang;
    private readonly ComputeFault? _fault;
    private long _inFlightSinceUtcTicks; // 0 = idle
    private long _lastFinishedUtcTicks; // 0 = none yet
    private long _completedOperations;
    private long _busyTicks; // time spent running operations that finished (TimeSpan ticks); guarded by _busyLock
    private readonly Lock _busyLock = new(); // the busy total and the in-flight start change together (BusyTime's invariant)
    private long _recordedSteps;
    private long _warmupFromStep; // the step count when the last warm-up began (a new worker, a stage configured)

    /// <summary>Device error times kept for the flaky-device budget: the largest budget that can be set.</summary>
    public const int MaxDeviceErrorTimes = 1024;

    public DeviceWorker(string nodeId, torch.Device device, int threads, long memoryBytes, int stepTimeWindow,
        TimeProvider? time = null, ComputeHang? hang = null, ComputeFault? fault = null)
    {
        _time = time ?? TimeProvider.System;
        _hang = hang;
        _fault = fault;
        NodeId = nodeId;
        Device = device;
        Threads = threads;
        MemoryBytes = memoryBytes;
        _stepTimes = new StepTimeWindow(stepTimeWindow);
        _thread = new Thread(Loop) { IsBackground = true, Name = $"device {nodeId}" };
        _thread.Start();
    }

    public string NodeId { get; }

    public torch.Device Device { get; }

    public int Threads { get; }

    public long MemoryBytes { get; }

    public int QueueLength => _queue.Count;

    public int ErrorCount => Volatile.Read(ref _errors);

    /// <summary>Failed steps since the last good one.</summary>
    public int ConsecutiveErrors => Volatile.Read(ref _consecutiveErrors);

    public string? LastError => Volatile.Read(ref _lastError);

    public int ActiveStages => _occupants.Count;

    /// <summary>The stages attached now (reported with every heartbeat).</summary>
    public NodeOccupant[] Occupants() => [.. _occupants.Values];

    /// <summary>When the operation running on the device thread now started; null when the worker is idle.</summary>
    public DateTimeOffset? InFlightSince => FromTicks(Interlocked.Read(ref _inFlightSinceUtcTicks));

    /// <summary>
    /// The time the device thread has spent running operations since the worker started, the one in flight included up
    /// to <paramref name="now"/> (a hung operation counts as busy, as a GPU's utilization does). Invariant: never goes
    /// back and counts every operation once — the loop adds an operation's time to the total and ends it in flight in
    /// one step under the same lock this reads both under.
    /// </summary>
    public TimeSpan BusyTime(DateTimeOffset now)
    {
        lock (_busyLock) return TimeSpan.FromTicks(_busyTicks) + InFlightAge(now);
    }

    /// <summary>When the last operation finished (successfully or not); null before the first.</summary>
    public DateTimeOffset? LastFinishedAt => FromTicks(Interlocked.Read(ref _lastFinishedUtcTicks));

    /// <summary>Operations finished so far (successfully or not).</summary>
    public long CompletedOperations => Interlocked.Read(ref _completedOperations);

    /// <summary>Bytes in use on this worker's CUDA device (total − free, every process's), or null on a CPU slot or without an answer from the driver.</summary>
    public long? DeviceMemoryInUse() =>
        Device.type == DeviceType.CUDA && CudaMemory.TryGetInfo(Math.Max(0, (int)Device.index), out long free, out long total) ? total - free : null;

    /// <summary>How long the operation in flight has been running at <paramref name="now"/>; zero when idle.</summary>
    public TimeSpan InFlightAge(DateTimeOffset now) => InFlightSince is { } since && now > since ? now - since : TimeSpan.Zero;

    private static DateTimeOffset? FromTicks(long utcTicks) => utcTicks == 0 ? null : new DateTimeOffset(utcTicks, TimeSpan.Zero);

    /// <summary>Step-time percentiles (ms) over the recent window.</summary>
    public (double P50, double P99) StepTimes() => _stepTimes.Percentiles();

    public void RecordStep(double milliseconds)
    {
        _stepTimes.Add(milliseconds);
        Interlocked.Increment(ref _recordedSteps);
        Volatile.Write(ref _consecutiveErrors, 0);
    }

    /// <summary>
    /// Starts a warm-up: the device is about to run a new executor (a stage configured on it), whose first operations
    /// build the model, allocate optimizer state and warm caches, so they may run far longer than a step seen before.
    /// A new worker starts in warm-up.
    /// </summary>
    public void BeginWarmup() => Interlocked.Exchange(ref _warmupFromStep, Interlocked.Read(ref _recordedSteps));

    /// <summary>Steps recorded since the last warm-up began.</summary>
    public long StepsSinceWarmup => Interlocked.Read(ref _recordedSteps) - Interlocked.Read(ref _warmupFromStep);

    /// <summary>The stage grain <paramref name="stageKey"/> runs here now, as <paramref name="occupant"/>.</summary>
    public void StageAttached(string stageKey, NodeOccupant occupant) => _occupants[stageKey] = occupant;

    /// <summary>The stage left, unless another attachment of the same key replaced it since.</summary>
    public void StageDetached(string stageKey, NodeOccupant occupant) => _occupants.TryRemove(KeyValuePair.Create(stageKey, occupant));

    /// <summary>When the last error was recorded (for the unhealthy node's cool-down).</summary>
    public DateTimeOffset? LastErrorAt => FromTicks(Interlocked.Read(ref _lastErrorUtcTicks));

    private long _lastErrorUtcTicks; // 0 = none yet; written by the device thread and the stages, read by the heartbeat

    /// <summary>Clears the run of failures after the device passed a health check.</summary>
    public void ResetConsecutiveErrors() => Volatile.Write(ref _consecutiveErrors, 0);

    /// <summary>The device's own errors (<see cref="IsDeviceError"/>) at or after <paramref name="since"/>; those before it are forgotten.</summary>
    public int DeviceErrorsSince(DateTimeOffset since)
    {
        lock (_deviceErrorTimes)
        {
            while (_deviceErrorTimes.Count > 0 && _deviceErrorTimes.Peek() < since) _deviceErrorTimes.Dequeue();
            return _deviceErrorTimes.Count;
        }
    }

    /// <summary>Counts an error of the device itself: against the run of failures, and in the flaky-device budget.</summary>
    public void RecordDeviceError(string message)
    {
        var now = _time.GetUtcNow();
        lock (_deviceErrorTimes)
        {
            if (_deviceErrorTimes.Count == MaxDeviceErrorTimes) _deviceErrorTimes.Dequeue();
            _deviceErrorTimes.Enqueue(now);
        }
        RecordError(message, now);
    }

    /// <summary>Counts a failed step against this node's health.</summary>
    public void RecordError(string message) => RecordError(message, _time.GetUtcNow());

    private void RecordError(string message, DateTimeOffset now)
    {
        Interlocked.Exchange(ref _lastErrorUtcTicks, now.UtcTicks);
        Interlocked.Increment(ref _errors);
        Interlocked.Increment(ref _consecutiveErrors);
        Volatile.Write(ref _lastError, message);
    }

    /// <summary>
    /// Whether <paramref name="e"/>, thrown by an operation's work, is the device's own error — a CUDA, cuBLAS, cuDNN
    /// or NCCL error as libtorch reports it (an illegal memory access, an ECC error, a launch failure), or an injected
    /// <see cref="ComputeFault"/> — rather than the work's (a shape or dtype mismatch, an index out of range, out of
    /// memory: libtorch reports those the same way, but they follow the job to any node; a disposed executor; a
    /// checksum the caller checked). Invariant: every operation that fails with one counts against the node's health,
    /// whichever caller ran it — a step, a restore, a snapshot copy, a device check — so a device that fails everything
    /// but the step (a stage re-placed on it fails in its restore) still turns its node Unhealthy.
    /// </summary>
    public static bool IsDeviceError(Exception e) => e is DeviceFaultException
        || (e is System.Runtime.InteropServices.ExternalException && NamesTheDevice(e.Message));

    private static readonly string[] s_deviceErrorMarks =
        ["CUDA error", "CUBLAS_STATUS", "CUDNN_STATUS", "cuDNN error", "NCCL error", "illegal memory access", "ECC error", "unspecified launch failure"];

    private static bool NamesTheDevice(string message) =>
        !message.Contains("out of memory", StringComparison.OrdinalIgnoreCase)
        && s_deviceErrorMarks.Any(mark => message.Contains(mark, StringComparison.OrdinalIgnoreCase));

    /// <summary>Runs <paramref name="work"/> on the device thread; the result says how long it queued and ran.</summary>
    public Task<Timed<T>> Run<T>(Func<T> work) => Run(work, work);

    /// <summary>Runs an action on the device thread.</summary>
    public async Task Run(Action work) => await Run(() => { work(); return true; }, work).ConfigureAwait(false);

    /// <summary><see cref="Run{T}(Func{T})"/>, with <paramref name="operation"/> the delegate fault injection knows it by (the caller's, not a wrapper's).</summary>
    private Task<Timed<T>> Run<T>(Func<T> work, Delegate operation)
    {
        var completion = new TaskCompletionSource<Timed<T>>(TaskCreationOptions.RunContinuationsAsynchronously);
        long enqueued = Stopwatch.GetTimestamp();
        bool queued = _queue.TryAdd(() =>
        {
            long started = Stopwatch.GetTimestamp();
            try
            {
                bool failAfterRunning = _fault?.BeforeOperation(NodeId, operation) ?? false; // fault injection: a device error
                T result = work();
                if (failAfterRunning)
                {
                    (result as IDisposable)?.Dispose(); // what it built is the caller's, who never gets it
                    throw _fault!.AfterRunning(NodeId);
                }
                var timed = new Timed<T>(result, Stopwatch.GetElapsedTime(enqueued, started), Stopwatch.GetElapsedTime(started, Stopwatch.GetTimestamp()));
                return () => completion.SetResult(timed);
            }
            catch (Exception e)
            {
                if (IsDeviceError(e)) RecordDeviceError(e.Message);
                return () => completion.SetException(e);
            }
        });
        if (!queued)
            completion.SetException(new ObjectDisposedException($"Device worker {NodeId}", "The device worker has shut down."));
        return completion.Task;
    }

    private void Loop()
    {
        ComputeDevice.SetThreads(Threads); // intra-op threads are per calling thread: set them on this one
        while (_queue.Take() is { } item)
        {
            long started;
            lock (_busyLock)
            {
                started = _time.GetUtcNow().UtcTicks;
                Interlocked.Exchange(ref _inFlightSinceUtcTicks, started);
            }
            Action? publish = null;
            try
            {
                _hang?.WaitWhileHung(NodeId); // fault injection: the operation started and does not come back
                publish = item();
            }
            finally
            {
                lock (_busyLock)
                {
                    long finished = _time.GetUtcNow().UtcTicks;
                    Interlocked.Exchange(ref _lastFinishedUtcTicks, finished);
                    Interlocked.Exchange(ref _inFlightSinceUtcTicks, 0);
                    _busyTicks += Math.Max(0, finished - started);
                }
                Interlocked.Increment(ref _completedOperations);
            }
            // Invariant: a caller that sees its operation's outcome sees the device no longer busy with it (the hang
            // check and the health probes read InFlightSince and the completed count).
            publish?.Invoke();
        }
    }

    public void Dispose()
    {
        _queue.Close();
        if (Thread.CurrentThread != _thread) _thread.Join(TimeSpan.FromSeconds(30));
    }
}
