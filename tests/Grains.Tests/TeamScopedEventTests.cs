using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Scheduling;
using Cluster.Grains.Interfaces.Security;
using Orleans.Streams;
using S = Cluster.Grains.Tests.SwitchableCallSigner;

namespace Cluster.Grains.Tests;

/// <summary>
/// A principal limited to teams reads only its teams' job events: on the live event stream, on a job's progress stream
/// and in the recorded histories. An admin (the fixture's default signer) and a viewer without teams read every team's.
/// </summary>
public sealed class TeamScopedEventTests(AuthorizationClusterFixture fixture) : IClassFixture<AuthorizationClusterFixture>
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_viewer_of_team_a_reads_team_a_events_and_not_team_b_events()
    {
        var own = Spec("tev-own", team: "a");
        var foreign = Spec("tev-foreign", team: "b");
        await using var vera = await S.As(fixture.TeamViewer, () => EventCollector.StartAsync(fixture.Client));
        await using var everyone = await S.As(fixture.Viewer, () => EventCollector.StartAsync(fixture.Client));
        await using var admin = await EventCollector.StartAsync(fixture.Client);

        await Job(foreign).Submit(foreign);
        await Job(own).Submit(own);
        await Job(foreign).Cancel("team-b-reason");
        await Job(own).Cancel("team-a-reason");
        await Eventually.True(() => Task.FromResult(admin.Events.Any(e => e.JobId == foreign.JobId) && admin.Events.Any(e => e.JobId == own.JobId)),
            s_wait, "events of both jobs on the admin's subscription");

        // A sentinel published after every event the admin has seen: once vera has it, she has had her chance at them all.
        string node = (await fixture.Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default).GetNodes())[0].Capabilities.NodeId;
        await fixture.Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default).Cordon(node, "sentinel");
        await fixture.Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default).Uncordon(node);
        bool Sentinel(ClusterEvent e) => e.Kind == ClusterEventKind.NodeCordoned && e.Reason == "sentinel";
        await Eventually.True(() => Task.FromResult(vera.Events.Any(Sentinel) && everyone.Events.Any(Sentinel)), s_wait,
            "the node event (no job: every viewer's) on vera's and the unscoped viewer's subscriptions");

        Assert.Contains(vera.Events, e => e.JobId == own.JobId && e.Team == "a");
        Assert.DoesNotContain(vera.Events, e => e.JobId == foreign.JobId);
        Assert.Contains(everyone.Events, e => e.JobId == foreign.JobId && e.Team == "b"); // a viewer without teams sees every team

        // Recorded histories: her team's job is readable, the other team's is refused by name.
        var ownPage = await S.As(fixture.TeamViewer, () => Log(own.JobId).GetPage(new JobEventQuery(100)));
        Assert.NotEmpty(ownPage.Events);
        var refused = await Assert.ThrowsAsync<AccessDeniedException>(() => S.As(fixture.TeamViewer, () => Log(foreign.JobId).GetPage(new JobEventQuery(100))));
        Assert.Contains("vera (viewer of a) may not call IJobEventLogGrain.GetPage for job tev-foreign of team b", refused.Message, StringComparison.Ordinal);
        Assert.NotEmpty((await S.As(fixture.Viewer, () => Log(foreign.JobId).GetPage(new JobEventQuery(100)))).Events);

        // A job's progress stream: only for a job of her teams.
        var progress = await Assert.ThrowsAsync<AccessDeniedException>(() => S.As(fixture.TeamViewer, () => SubscribeProgress(foreign.JobId)));
        Assert.Contains("for job tev-foreign of team b", progress.Message, StringComparison.Ordinal);
        var handle = await S.As(fixture.TeamViewer, () => SubscribeProgress(own.JobId));
        await handle.UnsubscribeAsync();

        // A deleted job's kept history no longer names its team through the job, but its events do: vera gets none of them.
        await Job(foreign).Delete(purge: false, reason: null);
        Assert.NotEmpty((await Log(foreign.JobId).GetPage(new JobEventQuery(100))).Events);
        Assert.Empty((await S.As(fixture.TeamViewer, () => Log(foreign.JobId).GetPage(new JobEventQuery(100)))).Events);
        Assert.DoesNotContain((await S.As(fixture.TeamViewer, () => Log(EventLogKeys.Cluster).GetPage(new JobEventQuery(1000)))).Events,
            r => r.Event.JobId == foreign.JobId);
    }

    private Task<StreamSubscriptionHandle<JobProgress>> SubscribeProgress(string jobId) =>
        fixture.Client.GetStreamProvider(JobStreams.Provider).GetStream<JobProgress>(StreamId.Create(JobStreams.ProgressNamespace, jobId))
            .SubscribeAsync((_, _) => Task.CompletedTask);

    private ITrainingJobGrain Job(JobSpec spec) => fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);

    private IJobEventLogGrain Log(string key) => fixture.Client.GetGrain<IJobEventLogGrain>(key);

    private static JobSpec Spec(string id, string team) => TinyJob.Spec(id, stages: 1, steps: 400, checkpointInterval: 0) with { Team = team };
}
