using Orleans.Storage;

namespace Cluster.Grains.Tests;

/// <summary>
/// Grain storage whose calls wait until the test lets them through, in the order it chooses: a deterministic scheduler for
/// the interleavings of several activations over one store. Each call is snapshotted when issued (a write sends the state
/// as it is then), applied to the inner store atomically when the test completes it (the linearisation point), and then
/// answered (a write's new ETag lands in the caller's state). Clears are conditional on the ETag, as in the real
/// providers. A completion may inject a fault: a write applied but answered with a timeout (the caller keeps its old
/// ETag), or refused without being applied. Hooks let the test observe every call when issued and when it lands.
/// </summary>
internal sealed class ScheduledGrainStorage(IGrainStorage inner, IGrainStorageSerializer serializer)
{
    private readonly List<Call> _pending = [];

    /// <summary>What a completion does besides applying the call.</summary>
    public enum Fault { None, AppliedButTimedOut, Refused }

    public enum CallKind { Read, Write, Clear }

    /// <summary>One storage call: who issued it, what it is, and (for a write) the state it carries, as issued.</summary>
    public sealed class Call(int caller, CallKind kind, string stateName, GrainId grain, object? written, Action<Fault> complete)
    {
        public int Caller { get; } = caller;
        public CallKind Kind { get; } = kind;
        public string StateName { get; } = stateName;
        public GrainId Grain { get; } = grain;
        public object? Written { get; } = written;
        /// <summary>What the test noted about the caller when the call was issued.</summary>
        public object? Note { get; set; }
        internal Action<Fault> Complete { get; } = complete;
    }

    /// <summary>Called when a call is issued (the caller's state as of then can be noted on it).</summary>
    public Action<Call>? Issued { get; set; }

    /// <summary>Called when a call has been applied to the store successfully, before it is answered.</summary>
    public Action<Call>? Landed { get; set; }

    public IReadOnlyList<Call> Pending => _pending;

    /// <summary>The store as a given caller (activation) sees it.</summary>
    public IGrainStorage For(int caller) => new Port(this, caller);

    /// <summary>
    /// Applies pending call <paramref name="index"/> and answers it (its continuations run where its awaiter says). A fault
    /// applies to writes only; other calls complete normally.
    /// </summary>
    public void Complete(int index, Fault fault = Fault.None)
    {
        var call = _pending[index];
        _pending.RemoveAt(index);
        call.Complete(call.Kind == CallKind.Write ? fault : Fault.None);
    }

    private Task Enqueue(int caller, CallKind kind, string stateName, GrainId grain, object? written, Func<Exception?> apply, Action answer)
    {
        var done = new TaskCompletionSource();
        Call? self = null;
        self = new Call(caller, kind, stateName, grain, written, fault =>
        {
            Exception? failure = fault == Fault.Refused ? new IOException("storage refused the write") : apply();
            if (failure is null)
            {
                Landed?.Invoke(self!);
                if (fault == Fault.AppliedButTimedOut) failure = new TimeoutException("the answer to the write was lost");
                else answer();
            }
            if (failure is null) done.SetResult();
            else done.SetException(failure);
        });
        _pending.Add(self);
        Issued?.Invoke(self);
        return done.Task;
    }

    private T Copy<T>(T value) => serializer.Deserialize<T>(serializer.Serialize(value))!;

    private sealed class Port(ScheduledGrainStorage scheduler, int caller) : IGrainStorage
    {
        public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            var read = new GrainState<T>();
            return scheduler.Enqueue(caller, CallKind.Read, stateName, grainId, null,
                () => Run(() => scheduler.Inner.ReadStateAsync(stateName, grainId, read)),
                () => (grainState.State, grainState.ETag, grainState.RecordExists) = (read.RecordExists ? read.State : grainState.State, read.ETag, read.RecordExists));
        }

        public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            var sent = new GrainState<T>(scheduler.Copy(grainState.State)) { ETag = grainState.ETag, RecordExists = grainState.RecordExists };
            return scheduler.Enqueue(caller, CallKind.Write, stateName, grainId, scheduler.Copy(grainState.State),
                () => Run(() => scheduler.Inner.WriteStateAsync(stateName, grainId, sent)),
                () => (grainState.ETag, grainState.RecordExists) = (sent.ETag, true));
        }

        public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            string? etag = grainState.ETag;
            return scheduler.Enqueue(caller, CallKind.Clear, stateName, grainId, null,
                () =>
                {
                    var current = new GrainState<T>();
                    scheduler.Inner.ReadStateAsync(stateName, grainId, current).GetAwaiter().GetResult();
                    if (current.ETag != etag)
                        return new InconsistentStateException($"{grainId} {stateName}: clear with ETag {etag}, stored {current.ETag}", current.ETag, etag, null);
                    return Run(() => scheduler.Inner.ClearStateAsync(stateName, grainId, current));
                },
                () => (grainState.ETag, grainState.RecordExists) = (null, false));
        }

        private static Exception? Run(Func<Task> call)
        {
            try
            {
                call().GetAwaiter().GetResult(); // the inner store completes at once
                return null;
            }
            catch (Exception e)
            {
                return e;
            }
        }
    }

    private IGrainStorage Inner => inner;
}
