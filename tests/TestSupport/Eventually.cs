namespace Cluster.Grains.Tests;

/// <summary>Waits on a condition with a deadline (never a fixed sleep); the failure says what was expected.</summary>
internal static class Eventually
{
    public static async Task True(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        Exception? last = null;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if (await condition()) return;
            }
            catch (Exception e)
            {
                last = e;
            }
            await Task.Delay(50);
        }
        Assert.Fail($"Timed out after {timeout.TotalSeconds:F0} s waiting for: {what}.{(last is null ? "" : $" Last error: {last.Message}")}");
    }

    public static async Task<T> Value<T>(Func<Task<T>> read, Func<T, bool> done, TimeSpan timeout, string what)
    {
        T value = default!;
        await True(async () => done(value = await read()), timeout, what);
        return value;
    }
}
