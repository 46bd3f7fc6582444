namespace Cluster.Grains.Jobs;

/// <summary>
/// A call to a grain whose activation is on a silo that is stopping is rejected by that silo
/// (<see cref="OrleansMessageRejectionException"/>, "Silo stopping") before it is run; once the silo has left, the same
/// call activates the grain on a silo that stays. Seen with the scheduler: a coordinator that took over a job handed over
/// by a leaving silo asked the scheduler — whose activation was on that same silo, deactivating — to queue the job, was
/// rejected, and recovered the job although nothing had failed. Such a rejected call is sent again, at most
/// <see cref="Tries"/> times, 100 ms × the try apart (at most <see cref="LongestWait"/>): about 4.5 s in all. The
/// rejections were measured to last 1.2–1.3 s on a 2-core machine (docs/deploy.md), longer than the 1 s this once
/// allowed. A call that was run (any other failure) is not sent again. Public for the silo's own calls while it leaves
/// (<c>DrainOnShutdown</c>): the scheduler's silo may be leaving at the same time.
/// </summary>
public static class StoppingSiloRetry
{
    public const int Tries = 12;

    /// <summary>The longest wait between two tries.</summary>
    private static readonly TimeSpan LongestWait = TimeSpan.FromMilliseconds(500);

    /// <summary>The wait after the <paramref name="attempt"/>-th rejected try.</summary>
    private static TimeSpan WaitAfter(int attempt) => TimeSpan.FromMilliseconds(Math.Min(100 * attempt, LongestWait.TotalMilliseconds));

    public static async Task<T> Call<T>(Func<Task<T>> call, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(call);
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return await call();
            }
            catch (OrleansMessageRejectionException) when (attempt < Tries)
            {
                await Task.Delay(WaitAfter(attempt), time);
            }
        }
    }

    public static Task Call(Func<Task> call, TimeProvider time) =>
        Call(async () =>
        {
            await call();
            return true;
        }, time);
}
