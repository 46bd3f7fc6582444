using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Streams;

namespace Cluster.Grains.Hosting;

/// <summary>
/// Publishes <see cref="ClusterEvent"/>s from a grain; best-effort, never fails the caller. An event of a job is also
/// recorded in the job's <see cref="IJobEventLogGrain"/> (which answers from memory; it stores in the background), within
/// <see cref="RecordTimeout"/>, unless <c>record</c> is false; an event about a node (or with no job) is recorded in
/// the cluster's history (<see cref="EventLogKeys.Cluster"/>) the same way. A job event gets its job's team from a
/// publisher that knows it (<see cref="IKnowJobTeams"/>).
/// </summary>
internal static class ClusterEvents
{
    /// <summary>How long a publisher waits for the job's history to take an event (its grain may be re-activating).</summary>
    public static readonly TimeSpan RecordTimeout = TimeSpan.FromSeconds(5);

    public static async Task Publish(this Grain grain, ClusterEvent e, bool record = true)
    {
        if (e is { JobId: { } job, Team: null } && grain is IKnowJobTeams teams && teams.TeamOf(job) is { } team)
            e = e with { Team = team }; // readers limited to teams see only their teams' job events
        if (record)
        {
            var services = grain.GrainContext.ActivationServices;
            if (e.JobId is not null) await Record(services, e.JobId, e);
            if (EventLogKeys.InClusterHistory(e)) await Record(services, EventLogKeys.Cluster, e);
        }
        var stream = grain.GetStreamProvider(JobStreams.Provider)
            .GetStream<ClusterEvent>(StreamId.Create(JobStreams.EventsNamespace, JobStreams.EventsKey));
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                await stream.OnNextAsync(e);
                return;
            }
            catch (Exception) when (attempt < 3)
            {
                // Right after a silo loss the stream's queue may have died with it; the retry reaches its new home.
                await Task.Delay(TimeSpan.FromMilliseconds(100 * attempt));
            }
            catch (Exception)
            {
                return; // events are for watching: a stream hiccup must never stop training or recovery
            }
        }
    }

    private static async Task Record(IServiceProvider services, string log, ClusterEvent e)
    {
        try
        {
            await services.GetRequiredService<IGrainFactory>().GetGrain<IJobEventLogGrain>(log).Append(e)
                .WaitAsync(RecordTimeout, services.GetRequiredService<TimeProvider>());
        }
        catch (Exception)
        {
            // the history is for reading later: failing to record it must never stop training or recovery
        }
    }
}
