namespace Cluster.Grains.Jobs;

/// <summary>
/// One line for operators out of an exception chain: the innermost cause's first line, capped. Storage SDKs nest a
/// dozen levels with stack traces (≈ 22 KB); the whole chain belongs in the log, not in job errors or events.
/// </summary>
internal static class ShortError
{
    private const int MaxLength = 240;

    public static string Of(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var cause = exception;
        while (cause.InnerException is { } inner && (cause is AggregateException || IsWrapper(cause)))
            cause = inner;
        if (cause is AggregateException { InnerExceptions.Count: > 0 } all) cause = all.InnerExceptions[0];
        return Line(cause.Message);
    }

    /// <summary>The first line of <paramref name="text"/>, at most <see cref="MaxLength"/> characters.</summary>
    public static string Line(string text)
    {
        string line = text.Split('\n', 2)[0].Trim();
        return line.Length <= MaxLength ? line : line[..(MaxLength - 1)] + "…";
    }

    // Orleans wraps a storage provider's exception in "Error from storage provider … <the whole inner chain>".
    private static bool IsWrapper(Exception e) =>
        e.Message.StartsWith("Error from storage provider", StringComparison.Ordinal) || e.Message.Contains('\n', StringComparison.Ordinal);
}
