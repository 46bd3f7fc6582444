using Cluster.Grains.Checkpoints;
using Cluster.Grains.Hosting;
using Cluster.Grains.Storage;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Storage;

namespace Cluster.Grains.Tests;

/// <summary>
/// 2 silos whose job grains keep their state (job state and loss chunks) and checkpoints under
/// <paramref name="sharedRoot"/>, which another cluster may share; everything else (scheduler, registry, nodes, event
/// logs) stays in this cluster's own data root. Two such clusters over one shared root are two live activations of the
/// same job that only the stored state and the checkpoint store connect — a split brain. The job watchdog is slowed to
/// a crawl: in one cluster the directory sends its call to the one activation, but two clusters' directories never
/// merge, so each watchdog would revive its own cluster's activation.
/// </summary>
public sealed class SharedJobStateClusterFixture(string sharedRoot) : ClusterFixture(2)
{
    public string SharedRoot => sharedRoot;

    protected override ISiloBuilder ConfigureSilo(ISiloBuilder silo)
    {
        silo.Services.AddSingleton<ICheckpointStore>(_ => new FileSystemCheckpointStore(Path.Combine(sharedRoot, "checkpoints")));
        return silo;
    }

    protected override ISiloBuilder AfterTrainingCluster(ISiloBuilder silo)
    {
        string ownState = Path.Combine(DataRoot, "state");
        silo.Services.PostConfigure<TrainingClusterOptions>(o => o.JobWatchdogPeriod = TimeSpan.FromMinutes(30));
        // Registered after the training cluster's own "jobs" storage: the last keyed registration is the one resolved.
        silo.Services.AddKeyedSingleton<IGrainStorage>(StorageNames.Jobs, (sp, _) =>
        {
            var serializer = new OrleansGrainStorageSerializer(sp.GetRequiredService<Serializer>());
            return new JobStateRouter(
                new FileSystemGrainStorage(StorageNames.Jobs, Path.Combine(sharedRoot, "state"), serializer),
                new FileSystemGrainStorage(StorageNames.Jobs, ownState, serializer));
        });
        return silo;
    }

    /// <summary>Job grains' state (and their loss chunks) to the shared storage, every other grain's to this cluster's own.</summary>
    private sealed class JobStateRouter(IGrainStorage shared, IGrainStorage own) : IGrainStorage
    {
        private static readonly HashSet<string> s_sharedTypes = ["trainingjob", "jobloss"];

        public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => Of(grainId).ReadStateAsync(stateName, grainId, grainState);

        public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => Of(grainId).WriteStateAsync(stateName, grainId, grainState);

        public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => Of(grainId).ClearStateAsync(stateName, grainId, grainState);

        private IGrainStorage Of(GrainId grainId) => s_sharedTypes.Contains(grainId.Type.ToString()!) ? shared : own;
    }
}
