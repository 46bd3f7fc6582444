namespace Cluster.Grains.Jobs;

/// <summary>
/// A call to a grain whose activation is on a silo that is stopping is rejected by that silo
/// (<see cref="OrleansMessageRejectionException"/>, "Silo stopping") before it is run, and callers that still have the
/// grain's old address keep being rejected until that silo is gone; then the same call activates the grain on a silo
/// that stays. Seen with the scheduler: a coordinator that took over a job handed over by a leaving silo asked the
/// scheduler — whose activation had been on that same silo — to queue the job and was rejected for about a second
/// (2026-12-06, real processes); without a retry the job recovered although nothing had failed. Such a rejected call
/// is sent again, 100 ms × the try apart (at most 500 ms), for at most <see cref="DefaultLimit"/>; a call that ran and
/// failed (any other exception) is not.
/// </summary>
internal static class StoppingSiloRetry
{
    /// <summary>How long rejections are retried: longer than a graceful silo stop takes once its grains are deactivated.</summary>
    public static readonly TimeSpan DefaultLimit = TimeSpan.FromSeconds(10);

    public static async Task<T> Call<T>(Func<Task<T>> call, TimeProvider time, TimeSpan? limit = null)
    {
        ArgumentNullException.ThrowIfNull(call);
        ArgumentNullException.ThrowIfNull(time);
        var deadline = time.GetUtcNow() + (limit ?? DefaultLimit);
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return await call();
            }
            catch (OrleansMessageRejectionException) when (time.GetUtcNow() < deadline)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(500, 100 * attempt)), time);
            }
        }
    }

    public static Task Call(Func<Task> call, TimeProvider time, TimeSpan? limit = null) =>
        Call(async () =>
        {
            await call();
            return true;
        }, time, limit);
}
