namespace Cluster.Grains.Interfaces.Jobs;

/// <summary>A job spec was rejected; <see cref="Problems"/> lists every problem, each with its field path.</summary>
[GenerateSerializer, Alias("cluster.JobSpecInvalidException")]
public sealed class JobSpecInvalidException : Exception
{
    public JobSpecInvalidException(IReadOnlyList<string> problems)
        : base($"Job spec is invalid ({problems.Count} problem{(problems.Count == 1 ? "" : "s")}):{Environment.NewLine}  - {string.Join(Environment.NewLine + "  - ", problems)}")
    {
        Problems = [.. problems];
    }

    [Id(0)]
    public string[] Problems { get; private set; }
}
