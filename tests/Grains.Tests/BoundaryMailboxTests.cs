using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Jobs;

namespace Cluster.Grains.Tests;

/// <summary>The job's mailbox of step-boundary requests: its priority and the stale requests it drops.</summary>
public sealed class BoundaryMailboxTests
{
    private static readonly JobStatus Status = new() { JobId = "j", State = JobState.Paused };

    [Fact]
    public void A_preemption_that_arrived_before_a_pause_does_not_survive_the_pause()
    {
        var mailbox = new BoundaryMailbox();
        mailbox.RequestPreempt("preempted by job b");
        var paused = mailbox.RequestPause();

        mailbox.Pausing();
        mailbox.PausedNow(Status);

        Assert.True(paused.IsCompletedSuccessfully);
        Assert.Null(mailbox.PreemptedBecause);
        Assert.False(mailbox.PauseRequested);
        Assert.Empty(mailbox.Pending);
    }

    [Fact]
    public void Pausing_drops_shrinks_and_moves_but_keeps_a_rewind_for_the_resume()
    {
        var mailbox = new BoundaryMailbox();
        mailbox.RequestShrink(1, "room for b");
        mailbox.RequestMove("s1/cpu0", "drained");
        _ = mailbox.RequestRewind(null, 0);
        _ = mailbox.RequestPause();

        mailbox.PausedNow(Status);

        Assert.Null(mailbox.TakeShrink());
        Assert.False(mailbox.HasMoves);
        Assert.Equal(["rewind to step 0"], mailbox.Pending);
        Assert.NotNull(mailbox.RewindRequest("resumed"));
    }

    [Fact]
    public void A_new_placement_drops_moves_and_shrinks_but_not_a_preemption_the_scheduler_waits_for()
    {
        var mailbox = new BoundaryMailbox();
        mailbox.RequestShrink(1, "room for b");
        mailbox.RequestMove("s1/cpu0", "drained");
        mailbox.RequestPreempt("preempted by job b");

        mailbox.Placed();

        Assert.Equal(["preempt"], mailbox.Pending);
    }

    [Fact]
    public void Pending_requests_are_listed_in_their_priority()
    {
        var mailbox = new BoundaryMailbox();
        mailbox.RequestMove("s2/cpu0", "straggler");
        mailbox.RequestShrink(2, "room");
        mailbox.RequestPreempt("preempted");
        _ = mailbox.RequestPause();
        _ = mailbox.RequestCheckpoint();
        _ = mailbox.RequestRewind(null, 0);
        mailbox.RequestCancel();

        Assert.Equal(["cancel", "rewind to step 0", "checkpoint", "pause", "preempt", "shrink to 2", "move off s2/cpu0"], mailbox.Pending);
    }

    [Fact]
    public async Task A_newer_rewind_supersedes_an_older_one_and_the_older_caller_is_told()
    {
        var mailbox = new BoundaryMailbox();
        var first = mailbox.RequestRewind(null, 0);
        var second = mailbox.RequestRewind(null, 0);

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => first);
        Assert.Contains("Superseded", e.Message, StringComparison.Ordinal);
        mailbox.RewindApplied(Status);
        Assert.Same(Status, await second);
        Assert.Null(mailbox.RewindRequest("again"));
    }

    [Fact]
    public void Cancel_wakes_a_paused_job_and_a_resume_before_the_pause_is_taken_withdraws_it()
    {
        var mailbox = new BoundaryMailbox();
        var pause = mailbox.RequestPause();
        mailbox.Resume(Status, paused: false);
        Assert.True(pause.IsCompletedSuccessfully);
        Assert.False(mailbox.PauseRequested);
        Assert.False(mailbox.Resumed.IsCompleted);

        mailbox.Pausing();
        Assert.False(mailbox.Resumed.IsCompleted);
        mailbox.RequestCancel();
        Assert.True(mailbox.Resumed.IsCompleted);
        Assert.True(mailbox.Wake.IsCompleted);
        mailbox.ConsumeWake();
        Assert.False(mailbox.Wake.IsCompleted);
    }

    [Fact]
    public void A_resume_is_granted_from_the_call_until_the_next_pause_and_never_to_a_cancelled_job()
    {
        var mailbox = new BoundaryMailbox();
        mailbox.Pausing();
        mailbox.PausedNow(Status);
        Assert.False(mailbox.ResumeGranted); // paused, nobody resumed

        mailbox.Resume(Status, paused: true);
        Assert.True(mailbox.ResumeGranted); // the loop may still be in Paused: requests count the job as running

        mailbox.Pausing();
        Assert.False(mailbox.ResumeGranted); // the next pause needs its own resume

        mailbox.Resume(Status, paused: true);
        mailbox.RequestCancel();
        Assert.False(mailbox.ResumeGranted);
    }

    [Fact]
    public async Task A_job_that_ends_answers_every_waiting_caller_at_once()
    {
        var mailbox = new BoundaryMailbox();
        var pause = mailbox.RequestPause();
        var checkpoints = new[] { mailbox.RequestCheckpoint(), mailbox.RequestCheckpoint() };
        var rewind = mailbox.RequestRewind(null, 0);
        var ended = Status with { State = JobState.Cancelled };

        mailbox.Ended(ended, "job j finished (Cancelled) at step 7.");

        Assert.Same(ended, await pause);
        foreach (var checkpoint in checkpoints)
        {
            var error = await Assert.ThrowsAsync<InvalidOperationException>(() => checkpoint);
            Assert.Equal("No checkpoint was taken: job j finished (Cancelled) at step 7.", error.Message);
        }
        var rewound = await Assert.ThrowsAsync<InvalidOperationException>(() => rewind);
        Assert.Equal("The restore was not applied: job j finished (Cancelled) at step 7.", rewound.Message);
        Assert.Empty(mailbox.Pending);
    }
}
