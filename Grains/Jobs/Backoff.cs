namespace Cluster.Grains.Jobs;

/// <summary>Capped exponential back-off with jitter: retries of many jobs after one outage do not arrive in lock-step.</summary>
internal static class Backoff
{
    /// <summary>
    /// The delay before retry <paramref name="attempt"/> (1 = the first): <paramref name="first"/> doubled per attempt,
    /// capped at <paramref name="max"/>, then a random half to all of it (drawn from <paramref name="random"/>, or a shared one).
    /// </summary>
    public static TimeSpan Delay(int attempt, TimeSpan first, TimeSpan max, Random? random = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(attempt, 1);
        double doubled = first.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 30));
        double capped = Math.Min(doubled, max.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(capped * (0.5 + 0.5 * (random ?? Random.Shared).NextDouble()));
    }

    /// <summary>Waits <paramref name="delay"/> on <paramref name="time"/>, or less when <paramref name="wake"/> completes first.</summary>
    public static async Task Wait(TimeProvider time, TimeSpan delay, Task wake)
    {
        using var cancel = new CancellationTokenSource();
        var sleep = Task.Delay(delay, time, cancel.Token);
        await Task.WhenAny(sleep, wake);
        await cancel.CancelAsync();
    }
}
