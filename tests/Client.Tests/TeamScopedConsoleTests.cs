using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Scheduling;
using S = Cluster.Grains.Tests.SwitchableCallSigner;

namespace Cluster.Client.Tests;

/// <summary>
/// The console as a viewer limited to team "a" (vera's certificate signs every call it makes): every read shows her
/// team's jobs only — lists leave team b's job out, and a read of team b's job fails naming its team — while a viewer
/// without teams sees both.
/// </summary>
public sealed class TeamScopedConsoleTests(AuthorizationClusterFixture fixture) : IClassFixture<AuthorizationClusterFixture>
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task A_viewer_of_team_a_sees_only_team_a_jobs_in_every_read()
    {
        var own = Spec("tsc-own", team: "a");
        var foreign = Spec("tsc-foreign", team: "b");
        var scheduler = fixture.Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);
        try
        {
            await Job(own).Submit(own); // the admin (the fixture's default signer)
            await Job(foreign).Submit(foreign);
            await Eventually.True(async () => (await scheduler.GetPlacement(own.JobId)).Count > 0 && (await scheduler.GetPlacement(foreign.JobId)).Count > 0,
                s_wait, "both jobs placed");

            // Lists and fleet views: her team's job, never the other's (a viewer without teams sees both).
            foreach (string[] command in new[] { new[] { "jobs", "--json" }, ["nodes", "--json"], ["top", "--once", "--json"], ["status", "--json"], ["queue", "--json"] })
            {
                var vera = await S.As(fixture.TeamViewer, () => ConsoleHarness.RunAsync(fixture.Client, command));
                Assert.True(vera.ExitCode == 0, $"{string.Join(' ', command)}: {vera}");
                Assert.DoesNotContain(foreign.JobId, vera.Raw, StringComparison.Ordinal);
                if (command[0] != "queue")
                {
                    Assert.Contains(own.JobId, vera.Raw, StringComparison.Ordinal);
                    var everyone = await S.As(fixture.Viewer, () => ConsoleHarness.RunAsync(fixture.Client, command));
                    Assert.Contains(foreign.JobId, everyone.Raw, StringComparison.Ordinal);
                }
            }

            // One job's reads: hers work, the other team's fail naming the team.
            var shown = await S.As(fixture.TeamViewer, () => ConsoleHarness.RunAsync(fixture.Client, "job", "show", own.JobId));
            Assert.True(shown.ExitCode == 0, shown.ToString());
            foreach (string[] command in new[]
            {
                new[] { "job", "show", foreign.JobId }, ["job", "losses", foreign.JobId], ["job", "timings", foreign.JobId],
                ["job", "events", foreign.JobId], ["checkpoint", "list", foreign.JobId],
            })
            {
                var refused = await S.As(fixture.TeamViewer, () => ConsoleHarness.RunAsync(fixture.Client, command));
                Assert.True(refused.ExitCode != 0, $"{string.Join(' ', command)}: {refused}");
                Assert.Contains("vera (viewer of a) may not call", refused.Error, StringComparison.Ordinal);
                Assert.Contains("on a job of team b: your role covers team a only", refused.Error, StringComparison.Ordinal);
                Assert.DoesNotContain("\"jobId\"", refused.Raw, StringComparison.Ordinal);
            }
        }
        finally
        {
            await Job(foreign).Cancel();
            await Job(own).Cancel();
        }
    }

    private ITrainingJobGrain Job(JobSpec spec) => fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);

    /// <summary>A one-stage job that runs until cancelled (each takes one of the fixture's two nodes).</summary>
    private static JobSpec Spec(string id, string team) => TinyJob.Spec(id, stages: 1, steps: 100_000, checkpointInterval: 0) with { Team = team };
}
