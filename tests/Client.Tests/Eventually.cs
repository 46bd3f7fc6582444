namespace Cluster.Client.Tests;

/// <summary>Waits for a condition with a deadline (no fixed sleeps); the message says what was expected.</summary>
internal static class Eventually
{
    public static async Task True(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Timed out after {timeout.TotalSeconds:0} s waiting for: {what}");
            await Task.Delay(100);
        }
    }

    public static Task True(Func<bool> condition, TimeSpan timeout, string what) => True(() => Task.FromResult(condition()), timeout, what);
}
