using System.Collections.Concurrent;

namespace Cluster.Grains.Tests;

/// <summary>How an injected storage call misbehaves.</summary>
public enum FaultMode
{
    /// <summary>The call throws at once (connection refused, disk full).</summary>
    Fail,

    /// <summary>The call hangs until the fault is healed, then goes through (a frozen server).</summary>
    Hang,

    /// <summary>The call is applied, then its caller gets a timeout (the reply was lost): the outcome looks unknown.</summary>
    SucceedThenTimeOut,
}

/// <summary>
/// Faults a test switches on per key (a job id) and per call kind (e.g. "WriteShard", "WriteState"), each for a number
/// of calls or until healed. Static instances are shared by every silo of an in-process cluster, like a real store.
/// </summary>
public sealed class StorageFaults
{
    private readonly ConcurrentDictionary<(string Key, string Call), Fault> _faults = new();
    private readonly ConcurrentDictionary<(string Key, string Call), int> _hits = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _healed = new();

    /// <summary>The checkpoint store's faults (<see cref="FaultyCheckpointStore"/>).</summary>
    public static StorageFaults Checkpoints { get; } = new();

    /// <summary>Grain storage faults (<see cref="FaultyGrainStorage"/>).</summary>
    public static StorageFaults GrainState { get; } = new();

    /// <summary>Makes the next <paramref name="times"/> calls of kind <paramref name="call"/> for <paramref name="key"/> misbehave.</summary>
    public void Inject(string key, string call, FaultMode mode, int times = int.MaxValue)
    {
        if (mode == FaultMode.Hang) _healed.GetOrAdd(key, _ => new(TaskCreationOptions.RunContinuationsAsynchronously));
        _faults[(key, call)] = new Fault(mode, times);
    }

    /// <summary>Every call kind of <paramref name="key"/> misbehaves until <see cref="Heal"/> (a store that is down).</summary>
    public void Outage(string key, FaultMode mode, params string[] calls)
    {
        foreach (string call in calls) Inject(key, call, mode);
    }

    /// <summary>Ends every fault of <paramref name="key"/>; hung calls go through.</summary>
    public void Heal(string key)
    {
        foreach (var fault in _faults.Keys.Where(k => k.Key == key).ToArray()) _faults.TryRemove(fault, out _);
        if (_healed.TryRemove(key, out var healed)) healed.TrySetResult();
    }

    /// <summary>How many calls of a kind hit an injected fault.</summary>
    public int Hits(string key, string call) => _hits.GetValueOrDefault((key, call));

    public async Task<T> Run<T>(string key, string call, Func<Task<T>> inner)
    {
        if (!TryTake(key, call, out var mode)) return await inner();
        _hits.AddOrUpdate((key, call), 1, (_, n) => n + 1);
        switch (mode)
        {
            case FaultMode.Fail:
                throw new IOException($"injected: {call} of '{key}' failed (storage unreachable)");
            case FaultMode.Hang:
                if (_healed.TryGetValue(key, out var healed)) await healed.Task;
                return await inner();
            default:
                await inner();
                throw new TimeoutException($"injected: {call} of '{key}' was applied, but its reply timed out");
        }
    }

    public Task Run(string key, string call, Func<Task> inner) => Run(key, call, async () =>
    {
        await inner();
        return true;
    });

    private bool TryTake(string key, string call, out FaultMode mode)
    {
        mode = default;
        while (_faults.TryGetValue((key, call), out var fault))
        {
            if (fault.Remaining <= 0)
            {
                _faults.TryRemove(KeyValuePair.Create((key, call), fault));
                return false;
            }
            var next = fault with { Remaining = fault.Remaining == int.MaxValue ? int.MaxValue : fault.Remaining - 1 };
            if (_faults.TryUpdate((key, call), next, fault))
            {
                mode = fault.Mode;
                return true;
            }
        }
        return false;
    }

    private sealed record Fault(FaultMode Mode, int Remaining);
}
