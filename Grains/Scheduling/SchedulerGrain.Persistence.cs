namespace Cluster.Grains.Scheduling;

/// <summary>Writes of the scheduler's persisted state (operators' node marks, team quotas).</summary>
internal sealed partial class SchedulerGrain
{
    private readonly SemaphoreSlim _writeGate = new(1, 1);

    /// <summary>
    /// Writes the persisted state as it is now. Invariant: one write at a time. The grain is reentrant, so two operator
    /// calls (a drain and a quota, two cordons) can write at once; both would send the same ETag and the blob store
    /// refuses the second (<c>InconsistentStateException</c>) after its change was made in memory — a mark that never
    /// reaches storage and is gone after a re-activation. Queued writes each write the latest state.
    /// </summary>
    private async Task WritePersisted()
    {
        await _writeGate.WaitAsync();
        try
        {
            await persisted.WriteStateAsync();
        }
        finally
        {
            _writeGate.Release();
        }
    }
}
