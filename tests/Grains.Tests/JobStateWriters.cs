using Cluster.Grains.Jobs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Serialization;
using Orleans.Storage;

namespace Cluster.Grains.Tests;

/// <summary>
/// Job state writers over an in-memory grain storage that serialises with Orleans' own serializer, as a silo's storage
/// does: the writer's protocol (epochs, ETags, chunks) tested without a cluster.
/// </summary>
internal sealed class JobStateWriters : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection()
        .AddSerializer(b => b.AddAssembly(typeof(JobGrainState).Assembly))
        .BuildServiceProvider();

    public InMemoryGrainStorage NewStorage() => new(NewSerializer());

    public IGrainStorageSerializer NewSerializer() => new OrleansGrainStorageSerializer(_services.GetRequiredService<Serializer>());

    public static JobStateWriter Writer(IGrainStorage storage, GrainId grain) =>
        new(storage, grain, TimeProvider.System, new JobCoordinatorOptions(), NullLogger.Instance);

    /// <summary>A job grain id and a writer of it that has read its stored state and holds a tiny job's spec (not yet saved).</summary>
    public static async Task<(GrainId Grain, JobStateWriter Writer)> Submitted(IGrainStorage storage, string jobId, int steps)
    {
        var grain = GrainId.Create("trainingjob", jobId);
        var writer = Writer(storage, grain);
        await writer.ReadAsync();
        writer.State.Spec = TinyJob.Spec(jobId, steps: steps);
        return (grain, writer);
    }

    public void Dispose() => _services.Dispose();
}
