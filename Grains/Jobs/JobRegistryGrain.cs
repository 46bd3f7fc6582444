using Cluster.Grains.Hosting;
using Cluster.Grains.Interfaces.Jobs;

namespace Cluster.Grains.Jobs;

/// <summary>Persisted list of jobs; see <see cref="IJobRegistryGrain"/>.</summary>
internal sealed class JobRegistryGrain(
    [PersistentState("registry", StorageNames.Jobs)] IPersistentState<JobRegistryState> state) : Grain, IJobRegistryGrain
{
    public async Task Add(string jobId)
    {
        bool changed = false;
        if (!state.State.Active.Contains(jobId)) { state.State.Active.Add(jobId); changed = true; }
        if (!state.State.All.Contains(jobId)) { state.State.All.Add(jobId); changed = true; }
        if (changed) await state.WriteStateAsync();
    }

    public async Task Remove(string jobId)
    {
        if (state.State.Active.Remove(jobId)) await state.WriteStateAsync();
    }

    public async Task Forget(string jobId)
    {
        bool changed = state.State.Active.Remove(jobId) | state.State.All.Remove(jobId);
        if (changed) await state.WriteStateAsync();
    }

    public Task<IReadOnlyList<string>> GetActive() => Task.FromResult<IReadOnlyList<string>>([.. state.State.Active]);

    public Task<IReadOnlyList<string>> GetAll() => Task.FromResult<IReadOnlyList<string>>([.. state.State.All]);
}
