using Cluster.Grains.Checkpoints;
using Cluster.Grains.Compute;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Placement;
using Cluster.Grains.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Runtime.Hosting;
using Orleans.Storage;

namespace Cluster.Grains.Hosting;

/// <summary>Wires the training cluster into a silo: device workers, placement, storage, streams and node start-up.</summary>
public static class TrainingClusterSiloExtensions
{
    /// <summary>
    /// Adds the training cluster with the embedded defaults (file-system checkpoints and job state under
    /// <see cref="TrainingClusterOptions.DataRoot"/>, memory streams). Call <paramref name="configure"/> to change options.
    /// </summary>
    public static ISiloBuilder AddTrainingCluster(this ISiloBuilder silo, Action<TrainingClusterOptions>? configure = null)
    {
        var services = silo.Services;
        var options = services.AddOptions<TrainingClusterOptions>();
        if (configure is not null) options.Configure(configure);
        options.Validate(o => o.Validate().Count == 0, "Training cluster options are invalid")
            .PostConfigure(o =>
            {
                var problems = o.Validate();
                if (problems.Count > 0)
                    throw new OptionsValidationException(nameof(TrainingClusterOptions), typeof(TrainingClusterOptions),
                        problems.Select(p => $"TrainingCluster:{p}"));
            });

        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<DeviceWorkerPool>();
        services.AddSingleton<TokenSourceCache>();
        services.TryAddSingleton<ICheckpointStore>(sp =>
        {
            var settings = sp.GetRequiredService<IOptions<TrainingClusterOptions>>().Value;
            return settings.CheckpointStore == "azureblob"
                ? AzureBlobCheckpointStore.Create(settings.AzureBlob.CheckpointStoreOptions(), sp.GetService<ILogger<AzureBlobCheckpointStore>>())
                : new FileSystemCheckpointStore(settings.ResolvedCheckpointPath, sp.GetService<ILogger<FileSystemCheckpointStore>>());
        });

        // Job state must outlive any silo: a file per job in the embedded default, a blob per job in fleet mode.
        var fleet = new TrainingClusterOptions();
        configure?.Invoke(fleet);
        if (fleet.CheckpointStore == "azureblob")
        {
            silo.AddAzureBlobGrainStorage(StorageNames.Jobs, (AzureBlobStorageOptions o) =>
            {
                o.ContainerName = fleet.AzureBlob.StateContainer;
                o.BlobServiceClient = fleet.AzureBlob.CreateServiceClient();
            });
        }
        else
        {
            services.AddGrainStorage(StorageNames.Jobs, (sp, name) =>
                new FileSystemGrainStorage(name, sp.GetRequiredService<IOptions<TrainingClusterOptions>>().Value.ResolvedStatePath,
                    sp.GetRequiredService<IGrainStorageSerializer>()));
        }
        services.AddHostedService<NodeStartup>();

        silo.AddPlacementDirector<NodeSiloPlacement, NodeSiloPlacementDirector>();
        silo.AddPlacementDirector<AssignedNodePlacement, NodeSiloPlacementDirector>();
        silo.AddPlacementDirector<AwayFromSiloPlacement, AwayFromSiloPlacementDirector>();
        silo.AddMemoryStreams(JobStreams.Provider);
        silo.AddMemoryGrainStorage(StorageNames.PubSub);
        return silo;
    }
}
