namespace Cluster.Grains.Jobs;

/// <summary>
/// A call to a grain whose activation is on a silo that is stopping is rejected by that silo
/// (<see cref="OrleansMessageRejectionException"/>, "Silo stopping") before it is run; once the silo has left, the same
/// call activates the grain on a silo that stays. Seen with the scheduler: a coordinator that took over a job handed over
/// by a leaving silo asked the scheduler — whose activation was on that same silo, deactivating — to queue the job, was
/// rejected, and recovered the job although nothing had failed. Such a rejected call is sent again, at most
/// <see cref="Tries"/> times, 100 ms × the try apart; a call that was run (any other failure) is not.
/// </summary>
internal static class StoppingSiloRetry
{
    public const int Tries = 5;

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
                await Task.Delay(TimeSpan.FromMilliseconds(100 * attempt), time);
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
