using System.CommandLine;
using Cluster.Client.Cli;
using Cluster.Client.Rendering;
using Cluster.Client.Specs;
using Cluster.Client.Views;
using Cluster.Grains.Interfaces.Jobs;
using Spectre.Console;

namespace Cluster.Client.Commands;

/// <summary><c>job submit [spec.json] [flags]</c>: validates on the cluster (every problem reported at once) and starts the job.</summary>
internal static class JobSubmitCommand
{
    public static Command Create(ConsoleContext context)
    {
        var file = new Argument<string?>("spec") { Description = "A job spec JSON file (JobSpec fields in camelCase; see docs/console.md); flags override its fields", Arity = ArgumentArity.ZeroOrOne };
        var flags = new JobSpecFlags();
        var command = new Command("submit", "Submit a job from a spec file and/or flags") { file };
        foreach (var option in flags.All) command.Options.Add(option);
        command.SetAction(context, async (parse, ct) =>
        {
            string? path = parse.GetValue(file);
            var spec = flags.Apply(path is null ? new JobSpec() : JobSpecFile.Load(path), parse, context.Time.GetUtcNow());
            // Caught here, before connecting; the cluster validates the rest of the replica range.
            if (flags.ReplicaProblems(spec, parse, path) is { Count: > 0 } problems)
                throw new UsageException("the job's replica range is not valid:", problems);
            var queries = await context.QueriesAsync(parse, ct);
            JobStatus status;
            try
            {
                status = await queries.Job(spec.JobId).Submit(spec);
            }
            catch (JobSpecInvalidException e)
            {
                // Every problem, each with the file it came from and its field path (flags win over the file's fields).
                string source = path ?? "job spec (from flags)";
                throw new SpecFileException($"the cluster rejected {source}:", [.. e.Problems.Select(p => $"{source}: {p}")]);
            }
            var view = JobView.From(status);
            if (context.IsJson(parse)) context.WriteJson(view);
            else context.Out.Write(JobsRenderer.Line("submitted", view));
            if (!context.IsJson(parse)) context.Out.WriteLine();
            return ExitCodes.Ok;
        });
        return command;
    }
}
