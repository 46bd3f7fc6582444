using Cluster.Grains.Checkpoints;
using Cluster.Grains.Compute;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Jobs;
using Cluster.Grains.Nodes;
using Cluster.Grains.Placement;
using Cluster.Grains.Scheduling;
using Cluster.Grains.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Runtime.Hosting;
using Orleans.Runtime.Placement;
using Orleans.Serialization;
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
        services.AddSingleton<Checkpoints.MigrationParcels>();
        services.AddSingleton<LocalCoordinators>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, CoordinatorHandOverOnShutdown>();
        services.AddSingleton<LocalSnapshotHolders>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, SnapshotHolderEvacuationOnShutdown>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, MigrationParcelTargetWatch>();
        services.TryAddSingleton<ISiloPortProbe, TcpSiloPortProbe>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, PreviousIncarnationEviction>();
        services.TryAddSingleton<ComputeSlowdown>();
        services.TryAddSingleton<ComputeHang>();
        services.TryAddSingleton<ComputeFault>();
        services.TryAddSingleton<IMembershipVotes, ManagementGrainVotes>();
        services.AddTransient<SuspectedSilos>(); // one per scheduler activation: its cache is that activation's
        services.TryAddSingleton<ICheckpointStore>(sp =>
        {
            var settings = sp.GetRequiredService<IOptions<TrainingClusterOptions>>().Value;
            return settings.CheckpointStore switch
            {
                "azureblob" => AzureBlobCheckpointStore.Create(settings.AzureBlob.CheckpointStoreOptions(), sp.GetService<ILogger<AzureBlobCheckpointStore>>()),
                "s3" => S3CheckpointStore.Create(settings.S3, sp.GetService<ILogger<S3CheckpointStore>>()),
                _ => (ICheckpointStore)new FileSystemCheckpointStore(settings.ResolvedCheckpointPath, sp.GetService<ILogger<FileSystemCheckpointStore>>()),
            };
        });

        // Job state — and the stream subscriptions (pub-sub state) that operators' consoles hold — must outlive any
        // silo: a file per grain in the embedded default, a blob per grain in fleet mode. Both use the Orleans
        // serializer ([Id]-keyed, version tolerant): the default JSON one drops values equal to the CLR default, which
        // silently turns e.g. CheckpointInterval = 0 back into its initializer's 10 on reload.
        var fleet = new TrainingClusterOptions();
        configure?.Invoke(fleet);
        foreach (string name in new[] { StorageNames.Jobs, StorageNames.PubSub })
        {
            if (fleet.CheckpointStore == "azureblob")
            {
                silo.AddAzureBlobGrainStorage(name, (OptionsBuilder<AzureBlobStorageOptions> o) => o.Configure<Serializer>((blob, serializer) =>
                {
                    blob.ContainerName = fleet.AzureBlob.StateContainer;
                    blob.BlobServiceClient = fleet.AzureBlob.CreateServiceClient();
                    blob.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer);
                }));
            }
            else
            {
                services.AddGrainStorage(name, (sp, storageName) =>
                    new FileSystemGrainStorage(storageName, sp.GetRequiredService<IOptions<TrainingClusterOptions>>().Value.ResolvedStatePath,
                        new OrleansGrainStorageSerializer(sp.GetRequiredService<Serializer>())));
            }
        }
        services.AddSingleton<SiloHealthAggregator>();
        services.AddHostedService(sp => sp.GetRequiredService<SiloHealthAggregator>());
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<SiloHealthAggregator>()); // heartbeats until the silo is no longer Active
        services.AddHostedService<HostAllocatorReport>();
        services.AddHostedService<NodeStartup>();
        services.AddHostedService<JobWatchdog>();

        // The default grain directory deactivates, when a silo dies, every activation whose entry that silo held — a
        // third of the node, stage, shard and scheduler grains of 3 healthy silos, in-memory snapshots included. The
        // distributed directory recovers a dead silo's entries from the survivors' activations instead. Its range lease
        // (no new activations of a dead silo's grains for 30 s, in case it still runs) would stall every recovery for
        // that long; here every call that matters carries the job's epoch and job state is ETag-guarded, so an
        // activation left behind on a silo declared dead can do no harm: no lease.
#pragma warning disable ORLEANSEXP003 // experimental in Orleans 10.4; measured here with real silo processes
        silo.AddDistributedGrainDirectory();
#pragma warning restore ORLEANSEXP003
        silo.Configure<GrainDirectoryOptions>(o => o.RangeLeaseDuration = TimeSpan.Zero);
        AddTellingDepartures<NodeSiloPlacement, NodeSiloPlacementDirector>(silo);
        AddTellingDepartures<AssignedNodePlacement, NodeSiloPlacementDirector>(silo);
        AddTellingDepartures<SnapshotHolderPlacement, SnapshotHolderPlacementDirector>(silo);
        AddTellingDepartures<SiloAddressPlacement, SiloAddressPlacementDirector>(silo);
        silo.AddMemoryStreams(JobStreams.Provider);
        return silo;
    }

    /// <summary>
    /// Places <typeparamref name="TStrategy"/>'s grains with <typeparamref name="TDirector"/>, wrapped so that a departing
    /// grain's migration learns where it heads (<see cref="DepartureTargetDirector"/>).
    /// </summary>
    private static void AddTellingDepartures<TStrategy, TDirector>(ISiloBuilder silo)
        where TStrategy : PlacementStrategy, new()
        where TDirector : IPlacementDirector =>
        silo.AddPlacementDirector<TStrategy>(services =>
            new DepartureTargetDirector(ActivatorUtilities.CreateInstance<TDirector>(services), services.GetRequiredService<MigrationParcels>()));
}
