using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Jobs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Cluster.Grains.Tests;

/// <summary>The job's recovery policy on a fake clock: fatal causes, the failure budget over its window, back-off.</summary>
public sealed class RecoveryPolicyTests
{
    private static readonly JobCoordinatorOptions Options = new()
    {
        MaxRecoveriesWithoutProgress = 3,
        FailureWindow = TimeSpan.FromMinutes(1),
        RecoveryDelay = TimeSpan.FromSeconds(1),
        RecoveryMaxDelay = TimeSpan.FromSeconds(4),
    };

    private static readonly Exception Lost = new NodeLostException("node s1/cpu0 lost");

    [Fact]
    public void Causes_that_waiting_cannot_fix_are_fatal_at_once()
    {
        var policy = new RecoveryPolicy(Options, new FakeTimeProvider());
        var decision = policy.OnFailure(new JobUnplaceableException("Job j cannot be placed: the model cannot fit"));
        Assert.False(decision.Recover);
        Assert.Contains("cannot fit", decision.Reason, StringComparison.Ordinal);
        Assert.False(policy.OnFailure(new InvalidDataException("corpus unreadable")).Recover);
        Assert.False(policy.OnFailure(new JobSpecInvalidException(["steps: must be positive"])).Recover);
        Assert.Equal(0, policy.FailuresInWindow);
    }

    [Fact]
    public void The_budget_is_spent_by_one_failure_too_many_within_the_window()
    {
        var time = new FakeTimeProvider();
        var policy = new RecoveryPolicy(Options, time);
        for (int i = 0; i < Options.MaxRecoveriesWithoutProgress; i++)
        {
            Assert.True(policy.OnFailure(Lost).Recover);
            time.Advance(TimeSpan.FromSeconds(5));
        }
        var spent = policy.OnFailure(Lost);
        Assert.False(spent.Recover);
        Assert.Equal("3 failures without progress, the last: node s1/cpu0 lost", spent.Reason);
    }

    [Fact]
    public void Failures_older_than_the_window_or_before_progress_no_longer_count()
    {
        var time = new FakeTimeProvider();
        var policy = new RecoveryPolicy(Options, time);
        for (int i = 0; i < 3; i++) Assert.True(policy.OnFailure(Lost).Recover);
        time.Advance(Options.FailureWindow + TimeSpan.FromSeconds(1));
        Assert.True(policy.OnFailure(Lost).Recover);
        Assert.Equal(1, policy.FailuresInWindow);

        for (int i = 0; i < 2; i++) Assert.True(policy.OnFailure(Lost).Recover);
        policy.Progressed();
        Assert.Equal(0, policy.FailuresInWindow);
        Assert.True(policy.OnFailure(Lost).Recover);
    }

    [Fact]
    public void Back_off_doubles_per_failure_with_jitter_and_is_capped()
    {
        var options = new JobCoordinatorOptions { MaxRecoveriesWithoutProgress = 10, RecoveryDelay = TimeSpan.FromSeconds(1), RecoveryMaxDelay = TimeSpan.FromSeconds(4) };
        var policy = new RecoveryPolicy(options, new FakeTimeProvider(), new Random(7));
        var delays = Enumerable.Range(1, 6).Select(_ => policy.OnFailure(Lost).Delay).ToArray();
        for (int attempt = 1; attempt <= delays.Length; attempt++)
        {
            double full = Math.Min(1000 * Math.Pow(2, attempt - 1), 4000);
            Assert.InRange(delays[attempt - 1].TotalMilliseconds, full / 2, full);
        }
    }

    [Fact]
    public void Storage_waits_back_off_until_the_job_is_placed_again()
    {
        var options = new JobCoordinatorOptions { StorageRetryDelay = TimeSpan.FromSeconds(1), StorageRetryMaxDelay = TimeSpan.FromSeconds(8) };
        var policy = new RecoveryPolicy(options, new FakeTimeProvider(), new Random(3));
        var first = policy.OnStorageUnavailable();
        policy.OnStorageUnavailable();
        var third = policy.OnStorageUnavailable();
        Assert.InRange(first.TotalMilliseconds, 500, 1000);
        Assert.InRange(third.TotalMilliseconds, 2000, 4000);
        policy.Placed();
        Assert.InRange(policy.OnStorageUnavailable().TotalMilliseconds, 500, 1000);
    }

    [Fact]
    public async Task Waiting_runs_on_the_injected_clock_and_ends_early_on_a_request_once()
    {
        var time = new FakeTimeProvider();
        var policy = new RecoveryPolicy(Options, time);
        var mailbox = new BoundaryMailbox();
        var wait = policy.Wait(TimeSpan.FromSeconds(30), mailbox);
        Assert.False(wait.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(29));
        Assert.False(wait.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(1));
        await wait.WaitAsync(TimeSpan.FromSeconds(30));

        var woken = policy.Wait(TimeSpan.FromHours(1), mailbox);
        _ = mailbox.RequestPause(); // a request arrives during the wait
        await woken.WaitAsync(TimeSpan.FromSeconds(30));
        // The request stays until the loop serves it, but it has woken one wait: the next one waits its delay (a woken
        // mailbox left as it was let every later back-off end at once).
        Assert.True(mailbox.PauseRequested);
        var next = policy.Wait(TimeSpan.FromSeconds(30), mailbox);
        await Task.Yield();
        Assert.False(next.IsCompleted, "a request that already woke a wait cut the next one short");
        time.Advance(TimeSpan.FromSeconds(30));
        await next.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task A_recovery_whose_own_bookkeeping_fails_at_once_still_backs_off_before_its_failure_counts()
    {
        var time = new FakeTimeProvider();
        var policy = new RecoveryPolicy(Options, time);
        var mailbox = new BoundaryMailbox();
        var disposed = new ObjectDisposedException("IServiceProvider"); // what a stale activation's services throw
        var recovery = policy.Recover(() => throw disposed, TimeSpan.FromSeconds(2), mailbox);
        await Task.Yield();
        Assert.False(recovery.IsCompleted, "the bookkeeping's failure skipped the back-off: the next failure would count at once");
        time.Advance(TimeSpan.FromSeconds(2));
        var thrown = await Assert.ThrowsAsync<ObjectDisposedException>(() => recovery.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Same(disposed, thrown);

        int ran = 0;
        var fine = policy.Recover(() => { ran++; return Task.CompletedTask; }, TimeSpan.FromSeconds(2), mailbox);
        time.Advance(TimeSpan.FromSeconds(2));
        await fine.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(1, ran);
    }

    [Fact]
    public void An_activation_is_lost_once_its_services_are_disposed_and_not_before()
    {
        var services = new ServiceCollection().BuildServiceProvider();
        Assert.False(ActivationLoss.ServicesDisposed(services));
        services.Dispose();
        Assert.True(ActivationLoss.ServicesDisposed(services));
        // The exception alone says nothing: a callee's disposed service reaches the caller as the same type.
        Assert.False(ActivationLoss.Is(new ObjectDisposedException("IServiceProvider")));
        Assert.True(ActivationLoss.Is(new AggregateException(new InvalidOperationException("Attempt to access an invalid activation: [Activation: x]"))));
    }

    [Theory]
    [InlineData(SiloStatus.Active, false)]
    [InlineData(SiloStatus.ShuttingDown, true)]
    [InlineData(SiloStatus.Stopping, true)]
    [InlineData(SiloStatus.Dead, true)]
    public void An_activation_whose_silo_is_leaving_is_lost_whatever_failure_it_meets(SiloStatus status, bool lost)
    {
        // The failure a stale coordinator meets first is typically its own silo's node reported lost by the scheduler:
        // an ordinary failure on a live silo, the activation's loss on a leaving one (its next activation recovers).
        using var services = new ServiceCollection().AddSingleton(LocalSiloStatus.Of(status)).BuildServiceProvider();
        Assert.Equal(lost, ActivationLoss.SiloLeaving(services));
        Assert.Equal(lost, ActivationLoss.Is(Lost, services));
        services.Dispose();
        Assert.True(ActivationLoss.Is(Lost, services)); // disposed: lost, whatever the status said
        Assert.False(ActivationLoss.SiloLeaving(services)); // which ServicesDisposed reports, not this check
        Assert.False(ActivationLoss.SiloLeaving(new ServiceCollection().BuildServiceProvider())); // outside a silo
    }

    [Fact]
    public void A_failure_window_shorter_than_the_longest_back_off_is_refused_with_the_fix()
    {
        var options = new JobCoordinatorOptions { FailureWindow = TimeSpan.FromSeconds(1), RecoveryMaxDelay = TimeSpan.FromSeconds(5) };
        var problem = Assert.Single(options.Validate());
        Assert.Contains("FailureWindow", problem, StringComparison.Ordinal);
        Assert.Contains("RecoveryMaxDelay", problem, StringComparison.Ordinal);
    }
}
