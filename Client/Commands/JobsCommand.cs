using System.CommandLine;
using Cluster.Client.Cli;
using Cluster.Client.Rendering;
using Cluster.Grains.Interfaces.Jobs;

namespace Cluster.Client.Commands;

/// <summary><c>jobs [--state S…] [--team T]</c>: every job ever submitted, in submission order.</summary>
internal static class JobsCommand
{
    public static Command Create(ConsoleContext context)
    {
        var state = new Option<JobState[]>("--state") { Description = "Only jobs in these states (repeatable or comma-free list: --state Running --state Failed)", AllowMultipleArgumentsPerToken = true };
        var team = new Option<string?>("--team") { Description = "Only jobs of this team" };
        return ReadCommand.List<Views.JobView>(context, "jobs", "Jobs: state, progress, loss, throughput, ETA (-o wide: epoch, last update, error)",
            async (parse, q) =>
            {
                var states = parse.GetValue(state) ?? [];
                string? teamName = parse.GetValue(team);
                return [.. (await q.GetJobsAsync()).Where(j => (states.Length == 0 || states.Contains(j.State)) && (teamName is null || j.Team == teamName))];
            },
            (jobs, options) => JobsRenderer.Render(jobs, options), j => j.JobId, state, team);
    }
}
