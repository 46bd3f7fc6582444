using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Scheduling;
using Cluster.Grains.Interfaces.Security;
using Cluster.Grains.Interfaces.Stages;
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

        // A fleet-wide operator (mapped by thumbprint) cordons nodes and acts on any team's job; reads are never limited.
        // The events name her.
        await using var events = await EventCollector.StartAsync(fixture.Client);
        Assert.True((await S.As(fixture.FleetOperator, () => Scheduler.Cordon(node))).Cordoned);
        await Eventually.True(() => Task.FromResult(events.Events.Any(e => e.Kind == ClusterEventKind.NodeCordoned && e.NodeId == node && e.Principal == "olga")),
            TimeSpan.FromSeconds(30), "a NodeCordoned event naming olga");
        Assert.False((await S.As(fixture.FleetOperator, () => Scheduler.Uncordon(node))).Cordoned);
        Assert.Equal("b", (await S.As(fixture.TeamOperator, () => Job(foreign).GetSpec()))!.Team);
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

    private ITrainingJobGrain Job(JobSpec spec) => fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);

    private static JobSpec Spec(string id, string team) => TinyJob.Spec(id, stages: 1, steps: 400, checkpointInterval: 0) with { Team = team };
}
