using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Messages;
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

        mailbox.TakePause();
        mailbox.PausedNow(Status, null);

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

        mailbox.PausedNow(Status, null);

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
        mailbox.RewindApplied(mailbox.RewindRequest("rewound")!, Status);
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

        mailbox.TakePause();
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
        mailbox.TakePause();
        mailbox.PausedNow(Status, null);
        Assert.False(mailbox.ResumeGranted); // paused, nobody resumed

        mailbox.Resume(Status, paused: true);
        Assert.True(mailbox.ResumeGranted); // the loop may still be in Paused: requests count the job as running

        mailbox.TakePause();
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

    [Fact]
    public async Task A_resume_while_the_pause_is_served_is_granted_the_job_pauses_then_places_again()
    {
        var mailbox = new BoundaryMailbox();
        var pause = mailbox.RequestPause();
        mailbox.TakePause(); // the loop commits the pause's checkpoint, frees the nodes …

        mailbox.Resume(Status with { State = JobState.Running }, paused: false); // … while an operator resumes
        Assert.False(pause.IsCompleted); // not answered "running": the pause goes on
        Assert.True(mailbox.ResumeGranted);

        var paused = Status with { State = JobState.Paused };
        mailbox.PausedNow(paused, null);
        Assert.Same(paused, await pause);
        Assert.True(mailbox.Resumed.IsCompleted); // the loop places again at once
        mailbox.Resuming();
        Assert.False(mailbox.PauseRequested);
        Assert.Empty(mailbox.Pending);
    }

    [Fact]
    public void The_last_of_a_pause_and_a_resume_wins_while_the_pause_is_served_and_after()
    {
        var mailbox = new BoundaryMailbox();
        _ = mailbox.RequestPause();
        mailbox.TakePause();
        mailbox.Resume(Status, paused: false);
        var again = mailbox.RequestPause(); // withdraws the grant: the job stays paused
        Assert.False(mailbox.ResumeGranted);
        mailbox.PausedNow(Status, null);
        Assert.True(again.IsCompletedSuccessfully);
        Assert.False(mailbox.Resumed.IsCompleted);

        mailbox.Resume(Status, paused: true); // granted; the loop wakes …
        var late = mailbox.RequestPause(); // … and a pause asked before it left Paused is served once it runs
        Assert.False(late.IsCompleted);
        mailbox.Resume(Status, paused: true); // … unless a resume follows it (found by PauseProtocolProperties)
        Assert.True(late.IsCompletedSuccessfully);
        mailbox.Resuming();
        Assert.False(mailbox.PauseRequested);

        mailbox.TakePause();
        mailbox.PausedNow(Status, null);
        mailbox.Resume(Status, paused: true);
        var last = mailbox.RequestPause();
        mailbox.Resuming();
        Assert.True(mailbox.PauseRequested);
        Assert.False(last.IsCompleted);
    }

    [Fact]
    public async Task A_deferred_pause_is_asked_again_unless_a_resume_came_meanwhile()
    {
        var mailbox = new BoundaryMailbox();
        var pause = mailbox.RequestPause();
        mailbox.TakePause();
        mailbox.PauseDeferred(Status); // storage out: training goes on, the pause waits
        Assert.True(mailbox.PauseRequested);
        Assert.False(pause.IsCompleted);

        mailbox.TakePause();
        mailbox.Resume(Status, paused: false);
        var running = Status with { State = JobState.Running };
        mailbox.PauseDeferred(running);
        Assert.False(mailbox.PauseRequested);
        Assert.Same(running, await pause);
    }

    [Fact]
    public async Task A_rewind_superseded_while_the_older_one_is_applied_stays_pending_and_only_the_older_caller_hears_of_the_older()
    {
        var mailbox = new BoundaryMailbox();
        var older = mailbox.RequestRewind(null, 0);
        var placing = mailbox.RewindRequest("rewound by an operator")!; // the loop places for it …
        var newer = mailbox.RequestRewind(null, 0); // … while an operator asks again

        mailbox.RewindApplied(placing, Status);
        var superseded = await Assert.ThrowsAsync<InvalidOperationException>(() => older);
        Assert.Contains("Superseded", superseded.Message, StringComparison.Ordinal);
        Assert.False(newer.IsCompleted); // not answered with the older one's outcome
        var next = mailbox.RewindRequest("rewound by an operator");
        Assert.NotNull(next);

        mailbox.RewindFailed(next, new InvalidOperationException("unusable"));
        Assert.Equal("unusable", (await Assert.ThrowsAsync<InvalidOperationException>(() => newer)).Message);
        Assert.Null(mailbox.RewindRequest("again"));
    }

    [Fact]
    public async Task Pausing_answers_a_checkpoint_asked_meanwhile_with_the_pause_s_and_a_rewind_s_caller_with_the_status()
    {
        var mailbox = new BoundaryMailbox();
        _ = mailbox.RequestPause();
        mailbox.TakePause();
        var checkpoint = mailbox.RequestCheckpoint();
        var rewind = mailbox.RequestRewind(null, 0);
        var manifest = new CheckpointManifest
        {
            JobId = "j", Step = 7, Epoch = 1, CreatedAt = DateTimeOffset.UnixEpoch, Model = new ModelSpec(), UnitsPerStage = [1], Shards = [],
            DataSource = "synthetic", DataSeed = 1, MicroBatches = 1, MicroBatchSize = 1,
        };

        mailbox.PausedNow(Status, manifest);

        Assert.Same(manifest, await checkpoint);
        Assert.Same(Status, await rewind);
        Assert.NotNull(mailbox.RewindRequest("resumed by an operator, rewound")); // applied on resume
        Assert.False(mailbox.HasCheckpointWaiters);

        var unplaced = new BoundaryMailbox();
        _ = unplaced.RequestPause();
        unplaced.TakePause();
        var asked = unplaced.RequestCheckpoint();
        unplaced.PausedNow(Status, null);
        Assert.Contains("paused before it was placed", (await Assert.ThrowsAsync<InvalidOperationException>(() => asked)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_abandoned_mailbox_fails_every_waiting_caller_so_it_can_ask_again()
    {
        var mailbox = new BoundaryMailbox();
        var pause = mailbox.RequestPause();
        var checkpoint = mailbox.RequestCheckpoint();
        var rewind = mailbox.RequestRewind(null, 0);

        mailbox.Abandon("moved: ask again.");

        foreach (var call in new Task[] { pause, checkpoint, rewind })
            Assert.Equal("moved: ask again.", (await Assert.ThrowsAsync<InvalidOperationException>(() => call)).Message);
        Assert.Null(mailbox.RewindRequest("again"));
    }
}
