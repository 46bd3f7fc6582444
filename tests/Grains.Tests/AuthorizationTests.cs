using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Scheduling;
using Cluster.Grains.Interfaces.Security;
using Cluster.Grains.Interfaces.Stages;
using Cluster.Grains.Security;
using Microsoft.Extensions.Logging.Abstractions;
using S = Cluster.Grains.Tests.SwitchableCallSigner;

namespace Cluster.Grains.Tests;

/// <summary>
/// Roles and teams, in memory: each call is signed with one of the fixture's certificates (as the console signs with
/// its TLS certificate) and the silo allows it by the principal the certificate maps to.
/// </summary>
public sealed class AuthorizationTests(AuthorizationClusterFixture fixture) : IClassFixture<AuthorizationClusterFixture>
{
    private ISchedulerGrain Scheduler => fixture.Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);

    [Fact]
    public async Task A_viewer_reads_but_cannot_act()
    {
        var nodes = await S.As(fixture.Viewer, () => Scheduler.GetNodes());
        Assert.NotEmpty(nodes);
        Assert.NotNull(await S.As(fixture.Viewer, () => fixture.Client.GetGrain<IJobRegistryGrain>(JobRegistryKeys.Default).GetAll()));

        var spec = Spec("authz-viewer", team: "a");
        var submit = await Assert.ThrowsAsync<AccessDeniedException>(() => S.As(fixture.Viewer, () => Job(spec).Submit(spec)));
        Assert.Contains("viewer (viewer) may not call ITrainingJobGrain.Submit: it needs the operator role", submit.Message, StringComparison.Ordinal);
        var cordon = await Assert.ThrowsAsync<AccessDeniedException>(() => S.As(fixture.Viewer, () => Scheduler.Cordon(nodes[0].Capabilities.NodeId)));
        Assert.Contains("needs the operator role", cordon.Message, StringComparison.Ordinal);
        var quota = await Assert.ThrowsAsync<AccessDeniedException>(() => S.As(fixture.TeamOperator, () => Scheduler.SetQuota("a", 1)));
        Assert.Contains("needs the admin role", quota.Message, StringComparison.Ordinal);
        Assert.Null(await S.As(fixture.Viewer, () => Job(spec).GetSpec())); // the refused submit did nothing
    }

    [Fact]
    public async Task An_operator_acts_on_its_own_teams_jobs_only_and_an_admin_on_every_team()
    {
        // alice (operator of team a) submits and cancels a job of team a.
        var own = Spec("authz-own", team: "a");
        await S.As(fixture.TeamOperator, () => Job(own).Submit(own));
        Assert.Equal(JobState.Cancelled, (await S.As(fixture.TeamOperator, () => Job(own).Cancel())).State);

        // She cannot submit for team b, nor pause, cancel or checkpoint team b's job, nor drain a node (the whole fleet).
        var foreign = Spec("authz-foreign", team: "b");
        var submit = await Assert.ThrowsAsync<AccessDeniedException>(() => S.As(fixture.TeamOperator, () => Job(foreign).Submit(foreign)));
        Assert.Contains("on a job of team b: your role covers team a only", submit.Message, StringComparison.Ordinal);
        await Job(foreign).Submit(foreign); // the admin (the fixture's default signer) may
        foreach (var attempt in new Func<Task>[] { () => Job(foreign).Pause(), () => Job(foreign).Cancel(), () => Job(foreign).CheckpointNow() })
        {
            var error = await Assert.ThrowsAsync<AccessDeniedException>(() => S.As(fixture.TeamOperator, attempt));
            Assert.Contains("alice (operator of a) may not call", error.Message, StringComparison.Ordinal);
        }
        string node = (await Scheduler.GetNodes())[0].Capabilities.NodeId;
        var drain = await Assert.ThrowsAsync<AccessDeniedException>(() => S.As(fixture.TeamOperator, () => Scheduler.Drain(node)));
        Assert.Contains("acts on the whole fleet", drain.Message, StringComparison.Ordinal);

        // A fleet-wide operator (mapped by thumbprint) cordons nodes and acts on any team's job, and reads it (alice may
        // not: TeamScopedReadTests). The events name her.
        await using var events = await EventCollector.StartAsync(fixture.Client);
        Assert.True((await S.As(fixture.FleetOperator, () => Scheduler.Cordon(node))).Cordoned);
        await Eventually.True(() => Task.FromResult(events.Events.Any(e => e.Kind == ClusterEventKind.NodeCordoned && e.NodeId == node && e.Principal == "olga")),
            TimeSpan.FromSeconds(30), "a NodeCordoned event naming olga");
        Assert.False((await S.As(fixture.FleetOperator, () => Scheduler.Uncordon(node))).Cordoned);
        Assert.Equal("b", (await S.As(fixture.FleetOperator, () => Job(foreign).GetSpec()))!.Team);
        await Assert.ThrowsAsync<AccessDeniedException>(() => S.As(fixture.TeamOperator, () => Job(foreign).GetSpec()));
        Assert.Equal(JobState.Cancelled, (await Job(foreign).Cancel()).State); // the admin
        Assert.Equal(1, (await Scheduler.SetQuota("b", 1)).MaxNodes); // admin only
        await Scheduler.SetQuota("b", null);
    }

    [Fact]
    public async Task Calls_without_a_valid_proof_of_a_mapped_trusted_certificate_are_refused()
    {
        var unsigned = await Assert.ThrowsAsync<AccessDeniedException>(() => S.As(null, () => Scheduler.GetNodes()));
        Assert.Contains("carries no signed credentials", unsigned.Message, StringComparison.Ordinal);

        var unmapped = await Assert.ThrowsAsync<AccessDeniedException>(() => S.As(fixture.Unmapped, () => Scheduler.GetNodes()));
        Assert.Contains("CN=nobody", unmapped.Message, StringComparison.Ordinal);
        Assert.Contains("maps to no principal", unmapped.Message, StringComparison.Ordinal);

        // Mapped to admin by subject, but not issued by the cluster's CA.
        var stranger = await Assert.ThrowsAsync<AccessDeniedException>(() => S.As(fixture.Stranger, () => Scheduler.GetNodes()));
        Assert.Contains("is not trusted", stranger.Message, StringComparison.Ordinal);

        // The admin's certificate is public: attaching it without its private key does not make a viewer an admin.
        var forged = await Assert.ThrowsAsync<AccessDeniedException>(() => S.Forge(fixture.Admin, fixture.Viewer, () => Scheduler.SetQuota("a", 1)));
        Assert.Contains("signature does not match certificate CN=root", forged.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Even_an_admin_certificate_cannot_call_an_internal_method()
    {
        var error = await Assert.ThrowsAsync<AccessDeniedException>(() =>
            fixture.Client.GetGrain<ICheckpointShardGrain>(StageKeys.Shard("authz-shard", 0)).Accept(1, 5, 0, [], durable: false));
        Assert.Contains("ICheckpointShardGrain.Accept is internal to the cluster", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deactivating_a_grain_through_the_runtime_needs_the_admin_role()
    {
        var job = fixture.Client.GetGrain<ITrainingJobGrain>("authz-deactivate");
        var error = await Assert.ThrowsAsync<AccessDeniedException>(() => S.As(fixture.FleetOperator, () => job.Cast<Orleans.Core.Internal.IGrainManagementExtension>().DeactivateOnIdle().AsTask()));
        Assert.Contains("olga (operator) may not call IGrainManagementExtension.DeactivateOnIdle: it needs the admin role", error.Message, StringComparison.Ordinal);
        await job.Cast<Orleans.Core.Internal.IGrainManagementExtension>().DeactivateOnIdle(); // the admin
    }

    [Fact]
    public async Task Restoring_from_the_initial_weights_needs_the_admin_role()
    {
        var spec = Spec("authz-restart", team: "a");
        var job = Job(spec);
        await S.As(fixture.TeamOperator, () => job.Submit(spec));

        // alice operates team a's jobs and olga the whole fleet, but throwing away every trained step is an admin's call.
        foreach (var (who, name) in new[] { (fixture.TeamOperator, "alice (operator)"), (fixture.FleetOperator, "olga (operator)") })
        {
            var error = await Assert.ThrowsAsync<AccessDeniedException>(() => S.As(who, () => job.RestoreCheckpoint(0)));
            Assert.Contains($"{name} may not restore job authz-restart from its initial weights: it needs the admin role", error.Message, StringComparison.Ordinal);
        }
        // A role the client writes into its own request context is discarded: only the silo's filter sets it.
        RequestContext.Set(CallCredentials.PrincipalRoleKey, (int)OperatorRole.Admin);
        RequestContext.Set(CallCredentials.PrincipalKey, "root");
        try
        {
            await Assert.ThrowsAsync<AccessDeniedException>(() => S.As(fixture.TeamOperator, () => job.RestoreCheckpoint(0)));
        }
        finally
        {
            RequestContext.Clear();
        }
        // An operator's ordinary restore is still the operator's: a step without a checkpoint is refused by the job itself.
        var missing = await Assert.ThrowsAsync<ArgumentException>(() => S.As(fixture.TeamOperator, () => job.RestoreCheckpoint(7)));
        Assert.Contains("has no committed checkpoint at step 7", missing.Message, StringComparison.Ordinal);

        // The admin (the fixture's default signer) may.
        var restarted = await job.RestoreCheckpoint(0);
        Assert.NotEqual(JobState.Failed, restarted.State);
        Assert.Equal(JobState.Cancelled, (await job.Cancel()).State);
    }

    [Fact]
    public async Task Reading_the_event_stream_needs_a_mapped_certificate_and_no_client_may_publish_to_it()
    {
        // A viewer subscribes and receives events (the admin cordons a node).
        string node = (await Scheduler.GetNodes())[0].Capabilities.NodeId;
        await using var viewerEvents = await S.As(fixture.Viewer, () => EventCollector.StartAsync(fixture.Client));
        await Scheduler.Cordon(node);
        await Scheduler.Uncordon(node);
        await Eventually.True(() => Task.FromResult(viewerEvents.Events.Any(e => e.Kind == ClusterEventKind.NodeCordoned && e.NodeId == node)),
            TimeSpan.FromSeconds(30), "the viewer's subscription to deliver the cordon event");

        // An unsigned client and a trusted but unmapped certificate cannot subscribe.
        var unsigned = await Assert.ThrowsAsync<AccessDeniedException>(() => S.As(null, () => EventCollector.StartAsync(fixture.Client)));
        Assert.Contains("IPubSubRendezvousGrain.RegisterConsumer refused: the call carries no signed credentials", unsigned.Message, StringComparison.Ordinal);
        var unmapped = await Assert.ThrowsAsync<AccessDeniedException>(() => S.As(fixture.Unmapped, () => EventCollector.StartAsync(fixture.Client)));
        Assert.Contains("maps to no principal", unmapped.Message, StringComparison.Ordinal);

        // Not even an admin's client may publish on the cluster's event stream (forged events).
        var stream = fixture.Client.GetStreamProvider(JobStreams.Provider).GetStream<ClusterEvent>(StreamId.Create(JobStreams.EventsNamespace, JobStreams.EventsKey));
        var forged = await Assert.ThrowsAnyAsync<Exception>(() => stream.OnNextAsync(new ClusterEvent(DateTimeOffset.UtcNow, ClusterEventKind.NodeLost, "forged", null, 1, 1, 0, null, "forged")));
        Assert.Contains("is internal to the cluster", forged.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_call_that_names_a_grain_as_its_sender_without_the_silos_stamp_is_a_clients_call()
    {
        var filter = new OperatorSurfaceFilter(NullLogger<OperatorSurfaceFilter>.Instance, siloProof: fixture.SiloProof);
        var accept = typeof(ICheckpointShardGrain).GetMethod(nameof(ICheckpointShardGrain.Accept))!;
        var shard = GrainId.Create("checkpointshard", "authz-forged/s0");
        var jobGrain = GrainId.Create("trainingjob", "authz-forged"); // the sender a forged message names

        // Forged: a grain as sender, no stamp (what a client that writes its own messages can send through a gateway).
        var forged = new FakeIncomingCall(accept, jobGrain, shard);
        var error = await Assert.ThrowsAsync<AccessDeniedException>(() => filter.Invoke(forged));
        Assert.Contains("ICheckpointShardGrain.Accept is internal to the cluster", error.Message, StringComparison.Ordinal);
        Assert.False(forged.Invoked);

        // A stamp for another call, or made with another secret, does not help.
        var other = new SiloCallProof("some-other-cluster-secret-0123456789abcdef", TimeSpan.FromMinutes(5), TimeProvider.System);
        foreach (var (proof, method) in new[] { (fixture.SiloProof, "Release"), (other, accept.Name) })
        {
            var replayed = new FakeIncomingCall(accept, jobGrain, shard);
            RequestContext.Clear();
            proof.Stamp(shard.ToString(), replayed.InterfaceName, method);
            await Assert.ThrowsAsync<AccessDeniedException>(() => filter.Invoke(replayed));
            Assert.False(replayed.Invoked);
        }

        // A silo's call carries its stamp and passes; the stamp does not reach the grain's own request context.
        var genuine = new FakeIncomingCall(accept, jobGrain, shard);
        RequestContext.Clear();
        fixture.SiloProof.Stamp(shard.ToString(), genuine.InterfaceName, accept.Name);
        await filter.Invoke(genuine);
        Assert.True(genuine.Invoked);
        Assert.Null(genuine.StampSeenByGrain);

        // Without a silo secret, the sender the message names is all the filter has: the forged call gets through.
        var trusting = new FakeIncomingCall(accept, jobGrain, shard);
        RequestContext.Clear();
        await new OperatorSurfaceFilter(NullLogger<OperatorSurfaceFilter>.Instance).Invoke(trusting);
        Assert.True(trusting.Invoked);
    }

    [Fact]
    public async Task Resume_checkpoint_and_rewind_events_name_the_operator_who_asked()
    {
        // Each is acted on at a step boundary after the call returned: the event must still name who asked.
        var spec = TinyJob.Spec("authz-principals", stages: 1, steps: 5_000, checkpointInterval: 0) with { Team = "b" };
        await Job(spec).Submit(spec); // the admin
        await Eventually.Value(() => Job(spec).GetStatus(), s => s.CompletedSteps >= 3, TimeSpan.FromMinutes(2), "the job to pass step 3");
        await S.As(fixture.FleetOperator, () => Job(spec).Pause("principal test"));
        await S.As(fixture.FleetOperator, () => Job(spec).Resume());
        var manifest = await S.As(fixture.FleetOperator, () => Job(spec).CheckpointNow());
        await S.As(fixture.FleetOperator, () => Job(spec).RestoreCheckpoint(manifest.Step));
        var log = fixture.Client.GetGrain<IJobEventLogGrain>(spec.JobId);
        foreach (var kind in new[] { ClusterEventKind.JobPaused, ClusterEventKind.JobUnpaused, ClusterEventKind.CheckpointCreated, ClusterEventKind.JobRewound })
        {
            var e = await Eventually.Value(async () => (await log.GetPage(new JobEventQuery(1000))).Events.Select(r => r.Event).FirstOrDefault(e => e.Kind == kind),
                found => found is not null, TimeSpan.FromSeconds(60), $"a {kind} event in the job's history");
            Assert.True(e!.Principal == "olga", $"{kind} names {e.Principal ?? "nobody"}, not olga: {e.Message}");
        }
        await Job(spec).Cancel();
    }

    private ITrainingJobGrain Job(JobSpec spec) => fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);

    private static JobSpec Spec(string id, string team) => TinyJob.Spec(id, stages: 1, steps: 400, checkpointInterval: 0) with { Team = team };
}
