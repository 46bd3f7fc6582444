using System.CommandLine;
using Cluster.Client.Cli;
using Cluster.Client.Specs;

namespace Cluster.Client.Commands;

/// <summary><c>job clone &lt;job&gt; [--id NEW] [flags]</c>: submits a new job with another job's spec, flags replacing its fields.</summary>
internal static class JobCloneCommand
{
    public static Command Create(ConsoleContext context)
    {
        var job = Arguments.JobId(context);
        var flags = new JobSpecFlags();
        var dryRun = JobSubmitCommand.DryRunOption();
        var command = new Command("clone", "Submit a new job with an existing job's spec (any state); flags replace its fields [default id: <job>-clone-<time>]") { job, dryRun };
        foreach (var option in flags.All) command.Options.Add(option);
        command.SetAction(context, async (parse, ct) =>
        {
            string sourceId = parse.GetRequiredValue(job);
            var queries = await context.QueriesAsync(parse, ct);
            var source = await (await queries.RequireJobAsync(sourceId)).GetSpec()
                ?? throw new Data.NotFoundException("Job", sourceId, []);
            var now = context.Time.GetUtcNow();
            var spec = flags.Apply(source with { JobId = $"{sourceId}-clone-{now:yyyyMMdd-HHmmss}" }, parse, now);
            string origin = $"clone of {sourceId}";
            if (flags.ReplicaProblems(spec, parse, origin) is { Count: > 0 } problems)
                throw new UsageException("the job's replica range is not valid:", problems);
            return parse.GetValue(dryRun)
                ? await SubmitFlow.DryRunAsync(context, parse, queries, spec)
                : await SubmitFlow.SubmitAsync(context, parse, queries, spec, origin, $"cloned {sourceId} as");
        });
        return command;
    }
}
