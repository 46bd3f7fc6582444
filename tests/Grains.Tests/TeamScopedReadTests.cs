using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Scheduling;
using Cluster.Grains.Interfaces.Security;
using S = Cluster.Grains.Tests.SwitchableCallSigner;

namespace Cluster.Grains.Tests;

/// <summary>
/// A principal limited to teams reads only its teams' jobs through every operator read: a read of another team's job
/// (status, spec, losses, timings, checkpoints, placement) is refused naming that team, and the fleet's lists (the job
/// registry, the queue, the stages each node runs) leave other teams' jobs out. A viewer without teams and an admin (the
/// fixture's default signer) read every team's.
/// </summary>
public sealed class TeamScopedReadTests(AuthorizationClusterFixture fixture) : IClassFixture<AuthorizationClusterFixture>
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(90);

    private ISchedulerGrain Scheduler => fixture.Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);

    private IJobRegistryGrain Registry => fixture.Client.GetGrain<IJobRegistryGrain>(JobRegistryKeys.Default);

    [Fact]
    public async Task A_principal_limited_to_teams_reads_only_its_teams_jobs_and_lists_leave_the_others_out()
    {
        // Two running jobs (one per node of the fixture's two) and one waiting job of each team.
        var own = Spec("tsr-own", team: "a");
        var foreign = Spec("tsr-foreign", team: "b");
        var ownWaiting = Spec("tsr-own-waiting", team: "a");
        var foreignWaiting = Spec("tsr-foreign-waiting", team: "b");
        try
        {
            await Job(own).Submit(own);
            await Job(foreign).Submit(foreign);
            await Eventually.True(async () => (await Scheduler.GetPlacement(own.JobId)).Count > 0 && (await Scheduler.GetPlacement(foreign.JobId)).Count > 0,
                s_wait, "both running jobs placed");
            await Job(ownWaiting).Submit(ownWaiting);
            await Job(foreignWaiting).Submit(foreignWaiting);
            await Eventually.True(async () => (await Scheduler.GetQueue()).Count(q => q.Ticket.JobId.EndsWith("-waiting", StringComparison.Ordinal)) == 2,
                s_wait, "both waiting jobs queued");

            // One job's reads: her team's job is readable, the other team's refused by name, whatever the read.
            Assert.Equal("a", (await S.As(fixture.TeamViewer, () => Job(own).GetSpec()))!.Team);
            Assert.Equal(own.JobId, (await S.As(fixture.TeamViewer, () => Job(own).GetStatus())).JobId);
            Assert.NotEmpty(await S.As(fixture.TeamViewer, () => Scheduler.GetPlacement(own.JobId)));
            var reads = new (string Method, Func<Task> Read)[]
            {
                ("ITrainingJobGrain.GetStatus", () => Job(foreign).GetStatus()),
                ("ITrainingJobGrain.GetSpec", () => Job(foreign).GetSpec()),
                ("ITrainingJobGrain.GetLossHistory", () => Job(foreign).GetLossHistory()),
                ("ITrainingJobGrain.GetLosses", () => Job(foreign).GetLosses(1, 10)),
                ("ITrainingJobGrain.GetStepTimings", () => Job(foreign).GetStepTimings()),
                ("ITrainingJobGrain.ListCheckpoints", () => Job(foreign).ListCheckpoints()),
                ("ISchedulerGrain.GetPlacement", () => Scheduler.GetPlacement(foreign.JobId)),
            };
            foreach (var (method, read) in reads)
            {
                var refused = await Assert.ThrowsAsync<AccessDeniedException>(() => S.As(fixture.TeamViewer, read));
                Assert.Equal($"vera (viewer of a) may not call {method} on a job of team b: your role covers team a only.", refused.Message);
                await S.As(fixture.Viewer, read); // a viewer without teams reads it
            }
            var operatorRead = await Assert.ThrowsAsync<AccessDeniedException>(() => S.As(fixture.TeamOperator, () => Job(foreign).GetStatus()));
            Assert.Contains("alice (operator of a) may not call ITrainingJobGrain.GetStatus on a job of team b", operatorRead.Message, StringComparison.Ordinal);
            Assert.Null(await S.As(fixture.TeamViewer, () => Job("tsr-no-such-job").GetSpec())); // no job: nothing to read, nothing refused

            // Lists: her teams' jobs only.
            string[] ours = [own.JobId, ownWaiting.JobId], theirs = [foreign.JobId, foreignWaiting.JobId];
            foreach (var list in new Func<Task<IReadOnlyList<string>>>[] { () => Registry.GetAll(), () => Registry.GetActive() })
            {
                var seen = await S.As(fixture.TeamViewer, list);
                Assert.Equal(ours, seen.Where(id => id.StartsWith("tsr-", StringComparison.Ordinal)));
                Assert.Superset(new HashSet<string>([.. ours, .. theirs]), new HashSet<string>(await S.As(fixture.Viewer, list)));
            }
            var queue = await S.As(fixture.TeamViewer, () => Scheduler.GetQueue());
            Assert.Equal([ownWaiting.JobId], queue.Select(q => q.Ticket.JobId));
            Assert.Contains(await S.As(fixture.Viewer, () => Scheduler.GetQueue()), q => q.Ticket.JobId == foreignWaiting.JobId);

            // Nodes: every node, but only her teams' stages on them.
            var veraNodes = await S.As(fixture.TeamViewer, () => Scheduler.GetNodes());
            var allNodes = await S.As(fixture.Viewer, () => Scheduler.GetNodes());
            Assert.Equal(allNodes.Select(n => n.Capabilities.NodeId), veraNodes.Select(n => n.Capabilities.NodeId));
            Assert.Contains(allNodes.SelectMany(n => n.Stages), s => s.StartsWith(foreign.JobId + "/", StringComparison.Ordinal));
            Assert.DoesNotContain(veraNodes.SelectMany(n => n.Stages), s => s.StartsWith(foreign.JobId + "/", StringComparison.Ordinal));
            Assert.Contains(veraNodes.SelectMany(n => n.Stages), s => s.StartsWith(own.JobId + "/", StringComparison.Ordinal));
        }
        finally
        {
            foreach (var spec in new[] { foreignWaiting, ownWaiting, foreign, own })
                await Job(spec).Cancel(); // the admin
        }
    }

    private ITrainingJobGrain Job(JobSpec spec) => fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);

    private ITrainingJobGrain Job(string jobId) => fixture.Client.GetGrain<ITrainingJobGrain>(jobId);

    /// <summary>A one-stage job that runs until cancelled (each takes one node).</summary>
    private static JobSpec Spec(string id, string team) => TinyJob.Spec(id, stages: 1, steps: 100_000, checkpointInterval: 0) with { Team = team };
}
