using System.Collections.Concurrent;
using Cluster.Grains.Interfaces.Jobs;

namespace Cluster.Grains.Tests;

/// <summary>
/// A fault hook on a job grain's <see cref="ITrainingJobGrain.GetStatus"/>, for the jobs a test names: the call hangs
/// (until <see cref="Release"/>) and then fails, or fails at once, as from a silo that is gone. Every call to a named
/// job is counted. Registered on the fixture's silos as an incoming filter; other jobs' calls pass untouched.
/// </summary>
public sealed class UnansweredJobStatus : IIncomingGrainCallFilter
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _faults = new(); // job id → released when done hanging
    private readonly ConcurrentDictionary<string, int> _calls = new();

    public void Hang(string jobId) => _faults[jobId] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Fail(string jobId)
    {
        var released = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        released.SetResult();
        _faults[jobId] = released;
    }

    /// <summary>Ends the named job's hung calls (failing them).</summary>
    public void Release(string jobId)
    {
        if (_faults.TryGetValue(jobId, out var released)) released.TrySetResult();
    }

    /// <summary>How many times the named job was asked for its status.</summary>
    public int Calls(string jobId) => _calls.GetValueOrDefault(jobId);

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.InterfaceMethod.DeclaringType == typeof(ITrainingJobGrain) && context.InterfaceMethod.Name == nameof(ITrainingJobGrain.GetStatus)
            && context.TargetId.Key.ToString() is { } jobId && _faults.TryGetValue(jobId, out var released))
        {
            _calls.AddOrUpdate(jobId, 1, (_, n) => n + 1);
            await released.Task;
            throw new SiloUnavailableException($"injected: job {jobId} cannot answer");
        }
        await context.Invoke();
    }
}
