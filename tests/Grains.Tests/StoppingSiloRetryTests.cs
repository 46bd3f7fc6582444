using Cluster.Grains.Jobs;

namespace Cluster.Grains.Tests;

/// <summary>A call a stopping silo rejected unrun is sent again, a bounded number of times; a call that ran and failed is not.</summary>
public sealed class StoppingSiloRetryTests
{
    [Fact]
    public async Task A_rejected_call_is_sent_again_until_it_is_run()
    {
        int calls = 0;
        int result = await StoppingSiloRetry.Call(() => ++calls < 3 ? throw StoppingSiloRejection.Create() : Task.FromResult(calls), TimeProvider.System);
        Assert.Equal(3, result);
    }

    [Fact]
    public async Task Rejections_stop_being_retried_after_the_last_try()
    {
        int calls = 0;
        await Assert.ThrowsAsync<OrleansMessageRejectionException>(() => StoppingSiloRetry.Call(() =>
        {
            calls++;
            throw StoppingSiloRejection.Create();
        }, TimeProvider.System));
        Assert.Equal(StoppingSiloRetry.Tries, calls);
    }

    [Fact]
    public async Task A_call_that_ran_and_failed_is_not_sent_again()
    {
        int calls = 0;
        await Assert.ThrowsAsync<TimeoutException>(() => StoppingSiloRetry.Call(() =>
        {
            calls++;
            throw new TimeoutException("the callee ran it, or may have");
        }, TimeProvider.System));
        Assert.Equal(1, calls);
    }
}
