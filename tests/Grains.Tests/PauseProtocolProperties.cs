using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Jobs;
using CsCheck;

namespace Cluster.Grains.Tests;

/// <summary>
/// The pause protocol of the job's mailbox (<see cref="PauseProgress"/>) against a model of the job's loop and its
/// interface methods, over random interleavings of operators' pauses and resumes with the loop's steps — serving a
/// pause (its checkpoint committed or deferred, or serving it failing: a node lost, the scheduler unreachable), showing
/// Paused, answering, waking and placing again — from a running job or one a re-activation found paused. Properties, once
/// the loop has nothing left to do: the job is paused exactly when the last of the operators' calls was a pause, and
/// every pause call has been answered.
/// </summary>
public sealed class PauseProtocolProperties
{
    private enum LoopAt
    {
        Running,
        Serving, // took the pause: committing its checkpoint, freeing the nodes
        ShownPaused, // the state says Paused; the callers are not answered yet
        Paused, // waiting for a resume
        Leaving, // woken: placing again, the state still says Paused
    }

    private enum Step
    {
        OperatorPause,
        OperatorResume,
        Loop,
        LoopWithStorageOut,
        LoopFails,
    }

    [Fact]
    public void The_last_of_the_operators_pauses_and_resumes_wins_and_every_pause_is_answered() =>
        Gen.Select(Gen.Bool, Gen.Enum<Step>().Array[0, 40]).Sample((reactivatedPaused, steps) =>
        {
            var job = new ModelJob(reactivatedPaused);
            foreach (var step in steps) job.Do(step);
            for (int i = 0; i < 20 && job.Do(Step.Loop); i++) { }
            Assert.False(job.Do(Step.Loop), "the loop never settled");
            Assert.True(job.Paused == (job.LastAsked == Step.OperatorPause),
                $"the job is {(job.Paused ? "paused" : "running")} after {Trace(reactivatedPaused, steps)}");
            Assert.All(job.PauseCalls, call => Assert.True(call.IsCompletedSuccessfully, $"a pause was not answered after {Trace(reactivatedPaused, steps)}"));
        }, iter: 5000);

    private static string Trace(bool reactivatedPaused, Step[] steps) =>
        $"{(reactivatedPaused ? "a re-activated paused job" : "a running job")}: {string.Join(", ", steps)}";

    /// <summary>
    /// The grain's interface methods and loop as far as pausing goes, in the order the grain does them. Paused with
    /// nothing asked (<paramref name="reactivatedPaused"/>) is how a new activation finds a job an earlier one paused.
    /// </summary>
    private sealed class ModelJob(bool reactivatedPaused)
    {
        private readonly BoundaryMailbox _mailbox = new();
        private LoopAt _loop = reactivatedPaused ? LoopAt.Paused : LoopAt.Running;
        private JobState _state = reactivatedPaused ? JobState.Paused : JobState.Running;

        public List<Task<JobStatus>> PauseCalls { get; } = [];

        public bool Paused => _state == JobState.Paused;

        /// <summary>Paused before any call of this activation counts as the last call having been a pause.</summary>
        public Step? LastAsked { get; private set; } = reactivatedPaused ? Step.OperatorPause : null;

        private JobStatus Status => new() { JobId = "j", State = _state };

        /// <summary>Does one step; false when it is a loop step with nothing to do.</summary>
        public bool Do(Step step)
        {
            switch (step)
            {
                case Step.OperatorPause: // TrainingJobGrain.Pause
                    LastAsked = step;
                    if (!(_state == JobState.Paused && !_mailbox.ResumeGranted)) PauseCalls.Add(_mailbox.RequestPause());
                    return true;
                case Step.OperatorResume: // TrainingJobGrain.Resume
                    LastAsked = step;
                    _mailbox.Resume(Status, paused: _state == JobState.Paused);
                    return true;
                case Step.LoopFails when _loop is LoopAt.Serving or LoopAt.ShownPaused: // an exception while serving: the loop recovers and runs
                    _mailbox.PauseDeferred(Status);
                    _state = JobState.Recovering;
                    _loop = LoopAt.Running;
                    return true;
                default:
                    return LoopStep(storageOut: step == Step.LoopWithStorageOut);
            }
        }

        private bool LoopStep(bool storageOut)
        {
            switch (_loop)
            {
                case LoopAt.Running when _mailbox.PauseRequested: // ServeRequests
                    _mailbox.TakePause();
                    _loop = LoopAt.Serving;
                    return true;
                case LoopAt.Serving when storageOut: // the pause's checkpoint deferred: training goes on
                    _mailbox.PauseDeferred(Status);
                    _loop = LoopAt.Running;
                    return true;
                case LoopAt.Serving: // EnterPaused: nodes freed, then the state, then the callers
                    _state = JobState.Paused;
                    _loop = LoopAt.ShownPaused;
                    return true;
                case LoopAt.ShownPaused:
                    _mailbox.PausedNow(Status, null);
                    _loop = LoopAt.Paused;
                    return true;
                case LoopAt.Paused when _mailbox.Resumed.IsCompleted: // WaitWhilePaused
                    _mailbox.Resuming();
                    _loop = LoopAt.Leaving;
                    return true;
                case LoopAt.Leaving: // BeginPlacement's transition
                    _state = JobState.Placing;
                    _loop = LoopAt.Running;
                    return true;
                default:
                    return false;
            }
        }
    }
}
