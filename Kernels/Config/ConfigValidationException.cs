namespace Cluster.Kernels.Config;

/// <summary>
/// Thrown when a configuration has one or more invalid values. <see cref="Problems"/> lists every problem at once,
/// each naming the field, the rule it breaks and how to fix it, so a user fixes them all in one pass.
/// </summary>
public sealed class ConfigValidationException : Exception
{
    public ConfigValidationException(string what, IReadOnlyList<string> problems)
        : base($"{what} is invalid ({problems.Count} problem{(problems.Count == 1 ? "" : "s")}):{Environment.NewLine}  - "
               + string.Join(Environment.NewLine + "  - ", problems))
    {
        Problems = problems;
    }

    public IReadOnlyList<string> Problems { get; }
}
