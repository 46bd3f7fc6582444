using System.CommandLine;
using Cluster.Client.Cli;
using Cluster.Client.Specs;
using Cluster.Grains.Interfaces.Jobs;

namespace Cluster.Client.Commands;

/// <summary><c>job submit [spec.json] [flags] [--dry-run]</c>: validates on the cluster (every problem reported at once) and starts the job.</summary>
internal static class JobSubmitCommand
{
    public static Command Create(ConsoleContext context)
    {
        var file = new Argument<string?>("spec") { Description = "A job spec JSON file (JobSpec fields in camelCase; see docs/console.md); flags override its fields", Arity = ArgumentArity.ZeroOrOne };
        var flags = new JobSpecFlags();
        var dryRun = DryRunOption();
        var command = new Command("submit", "Submit a job from a spec file and/or flags") { file, dryRun };
        foreach (var option in flags.All) command.Options.Add(option);
        command.SetAction(context, async (parse, ct) =>
        {
            string? path = parse.GetValue(file);
            var spec = flags.Apply(path is null ? new JobSpec() : JobSpecFile.Load(path), parse, context.Time.GetUtcNow());
            // Caught here, before connecting; the cluster validates the rest of the replica range.
            if (flags.ReplicaProblems(spec, parse, path) is { Count: > 0 } problems)
                throw new UsageException("the job's replica range is not valid:", problems);
            var queries = await context.QueriesAsync(parse, ct);
            return parse.GetValue(dryRun)
                ? await SubmitFlow.DryRunAsync(context, parse, queries, spec)
                : await SubmitFlow.SubmitAsync(context, parse, queries, spec, path ?? "job spec (from flags)", "submitted");
        });
        return command;
    }

    public static Option<bool> DryRunOption() =>
        new("--dry-run") { Description = "Check what can be checked without submitting (replica range, id free, nodes, team quota, queue) and show the spec; exit 2 when it would be refused" };
}
