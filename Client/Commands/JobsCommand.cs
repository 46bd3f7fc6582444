using System.CommandLine;
using Cluster.Client.Cli;
using Cluster.Client.Rendering;

namespace Cluster.Client.Commands;

/// <summary><c>jobs</c>: every job ever submitted, in submission order.</summary>
internal static class JobsCommand
{
    public static Command Create(ConsoleContext context) =>
        ReadCommand.Create(context, "jobs", "Jobs: state, progress, loss, throughput, ETA", q => q.GetJobsAsync(), jobs => JobsRenderer.Render(jobs));
}
