using System.Collections.Concurrent;

namespace Cluster.Grains.Tests;

/// <summary>
/// Faults in what the scheduler asks while it rebuilds its table, switched on by a test and shared by every silo of the
/// in-process cluster: the job registry's list of unfinished jobs cannot be read, or chosen jobs never answer the
/// scheduler's question about their placement. Only calls whose source is the scheduler grain are touched.
/// </summary>
public static class SchedulerCallFaults
{
    private static readonly ConcurrentDictionary<string, int> s_silentJobs = new(StringComparer.Ordinal);
    private static int s_registryFailures;
    private static volatile bool s_registryDown;

    /// <summary>The scheduler grain's id (set by the test): the source whose calls are faulted.</summary>
    public static GrainId? Scheduler { get; set; }

    /// <summary>While true, the scheduler's reads of the job registry fail.</summary>
    public static bool RegistryDown
    {
        get => s_registryDown;
        set => s_registryDown = value;
    }

    /// <summary>How many of the scheduler's registry reads failed.</summary>
    public static int RegistryFailures => Volatile.Read(ref s_registryFailures);

    /// <summary>The job does not answer the scheduler (its status and spec calls fail) until <see cref="Answer"/>.</summary>
    public static void Silence(string jobId) => s_silentJobs[jobId] = 0;

    public static void Answer(string jobId) => s_silentJobs.TryRemove(jobId, out _);

    /// <summary>How many of the scheduler's questions the job left unanswered.</summary>
    public static int Unanswered(string jobId) => s_silentJobs.GetValueOrDefault(jobId);

    /// <summary>Whether this call fails, and counts it.</summary>
    internal static bool Fails(GrainId? source, GrainId target, string method)
    {
        if (Scheduler is not { } scheduler || source != scheduler) return false;
        if (method == "GetActive" && RegistryDown)
        {
            Interlocked.Increment(ref s_registryFailures);
            return true;
        }
        string key = target.Key.ToString()!;
        if (method is "GetStatus" or "GetSpec" && s_silentJobs.ContainsKey(key))
        {
            s_silentJobs.AddOrUpdate(key, 1, (_, n) => n + 1);
            return true;
        }
        return false;
    }
}

/// <summary>The silo side of <see cref="SchedulerCallFaults"/>: fails the faulted calls before they reach their grain.</summary>
public sealed class SchedulerCallFaultFilter : IIncomingGrainCallFilter
{
    public Task Invoke(IIncomingGrainCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return SchedulerCallFaults.Fails(context.SourceId, context.TargetId, context.InterfaceMethod.Name)
            ? Task.FromException(new IOException($"injected: {context.InterfaceMethod.Name} of {context.TargetId} is unavailable to the scheduler"))
            : context.Invoke();
    }
}
