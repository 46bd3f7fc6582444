using System.Globalization;
using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Stages;

namespace Cluster.Processes.Tests;

/// <summary>What tests that lose silos round after round share: the job's holders and roles, waits, restarts.</summary>
public abstract partial class ProcessClusterTest
{
    /// <summary>How long one round's wait (a step, a restore, a leave) may take on a loaded 2-core machine.</summary>
    protected static readonly TimeSpan RoundDeadline = TimeSpan.FromMinutes(3);

    /// <summary>The seed a test's environment variable names (an integer), else <paramref name="fallback"/>.</summary>
    protected static int SeedFrom(string variable, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(variable), NumberStyles.Integer, CultureInfo.InvariantCulture, out int seed) ? seed : fallback;

    /// <summary>
    /// Submits the job with everything a round must not lose on the primary, which is never lost (membership and the
    /// client's gateway live there): the job grain and the scheduler (unless <paramref name="controlSilo"/> names another
    /// silo for both) and the job's history go there, and its nodes are cordoned (<paramref name="why"/>), so every stage
    /// and holder lives where a loss can reach it.
    /// </summary>
    protected async Task<ITrainingJobGrain> SubmitWithPrimaryKept(JobSpec spec, string why, string? controlSilo = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        string primary = Cluster.Primary.Name;
        var job = Cluster.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        var scheduler = Cluster.Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);
        await MoveTo(scheduler, scheduler.GetNodes, controlSilo ?? primary);
        await Retry(() => Cluster.ActivateOn(controlSilo ?? primary, job.GetStatus));
        Assert.Equal(controlSilo ?? primary, await Retry(() => Cluster.HostOf(job)));
        await KeepHistoryOnPrimary(spec.JobId);
        // A scheduler that just moved knows a node again only once it has heartbeated there: every one, before the cordon.
        foreach (var node in (await Cluster.WaitForReadyNodesAsync(Silos * SlotsPerSilo, TimeSpan.FromMinutes(2))).Where(n => n.Capabilities.NodeId.StartsWith(primary + "/", StringComparison.Ordinal)))
            await scheduler.Cordon(node.Capabilities.NodeId, why);
        await job.Submit(spec);
        return job;
    }

    /// <summary>The silo of each stage's first snapshot holder (stage → silo name, null when it has no activation).</summary>
    protected async Task<Dictionary<int, string?>> HolderHosts(string jobId, int stages)
    {
        var holders = new Dictionary<int, string?>();
        for (int s = 0; s < stages; s++)
        {
            var holder = Cluster.Client.GetGrain<ICheckpointShardGrain>(StageKeys.Shard(jobId, s));
            holders[s] = await Retry(() => Cluster.HostOf(holder));
        }
        return holders;
    }

    /// <summary>What the silo held of the job: "stage s0, holder of s1", or "nothing".</summary>
    protected static string Role(string silo, JobStatus status, Dictionary<int, string?> holders)
    {
        var held = status.Placement.Where(p => p.SiloName == silo).Select(p => $"stage s{p.Stage}")
            .Concat(holders.Where(h => h.Value == silo).Select(h => $"holder of s{h.Key}")).ToArray();
        return held.Length == 0 ? "nothing" : string.Join(", ", held);
    }

    /// <summary>Waits until the job runs <paramref name="steps"/> steps past <paramref name="from"/>; fails if it ends.</summary>
    protected async Task<JobStatus> StepsPast(ITrainingJobGrain job, long from, int steps, string what)
    {
        var status = await WithDiagnostics(job.GetPrimaryKeyString(), () => Eventually.Value(job.GetStatus,
            s => (s.State is JobState.Running or JobState.Checkpointing && s.CompletedSteps >= from + steps) || IsEnded(s.State), RoundDeadline, what));
        Assert.True(!IsEnded(status.State), $"{what}: the job ended {status.State}: {status.Error}{Environment.NewLine}{Diagnostics(status.JobId)}");
        return status;
    }

    /// <summary>
    /// Waits for one of the moments of the job's step a round loses a silo at, and says which: <paramref name="kind"/> 0,
    /// part-way through (a random 0–250 ms from now); 1, as a step completes (its snapshot being taken and handed
    /// over); 2, right after a checkpoint committed.
    /// </summary>
    protected async Task<string> AwaitMoment(ITrainingJobGrain job, int kind, Random random, string round)
    {
        ArgumentNullException.ThrowIfNull(random);
        var now = await Retry(job.GetStatus);
        switch (kind)
        {
            case 0:
                await Task.Delay(TimeSpan.FromMilliseconds(random.Next(0, 250)));
                return "mid-step";
            case 1:
                await WithDiagnostics(now.JobId, () => Eventually.Value(job.GetStatus, s => s.CompletedSteps > now.CompletedSteps || IsEnded(s.State),
                    RoundDeadline, $"{round}: step {now.CompletedSteps + 1} to complete"));
                return "as a step completed";
            default:
                long committed = now.LastCheckpointStep ?? 0;
                await WithDiagnostics(now.JobId, () => Eventually.Value(job.GetStatus, s => (s.LastCheckpointStep ?? 0) > committed || IsEnded(s.State),
                    RoundDeadline, $"{round}: a checkpoint after step {committed} to commit"));
                return "right after a checkpoint committed";
        }
    }

    /// <summary>
    /// Restarts a silo that was killed or left and waits until every node heartbeats again; a replacement that dies
    /// while it starts (evicted as too slow by a loaded machine) is started again, twice at most, and said so.
    /// </summary>
    protected async Task RestartUntilReady(SiloProcess gone, string round, Action<string> say)
    {
        ArgumentNullException.ThrowIfNull(say);
        var silo = await Cluster.RestartAsync(gone);
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                await Cluster.WaitForReadyNodesAsync(Silos * SlotsPerSilo, TimeSpan.FromMinutes(2));
                return;
            }
            catch (TimeoutException) when (attempt < 3 && silo.HasExited)
            {
                say($"{round}: the restarted {silo.Name} exited before its nodes were ready; started again");
                silo = await Cluster.RestartAsync(silo);
            }
        }
    }

    /// <summary>
    /// Moves each stage's snapshot holder off the primary (which is never lost) onto a silo that does not run that
    /// stage, when there is one: without it every holder sat on the primary and no loss took a silo that held only
    /// snapshot copies (both stages share a silo after the first loss, so the other silo then holds only copies).
    /// The director honours the hint only where its rules allow, so a holder never lands beside its stage.
    /// </summary>
    protected async Task SpreadHolders(string jobId, int stages, ITrainingJobGrain job, string round, Action<string> say)
    {
        ArgumentNullException.ThrowIfNull(say);
        var status = await Retry(job.GetStatus);
        for (int s = 0; s < stages; s++)
        {
            var holder = Cluster.Client.GetGrain<ICheckpointShardGrain>(StageKeys.Shard(jobId, s));
            if (await Retry(() => Cluster.HostOf(holder)) != Cluster.Primary.Name) continue;
            string? stageSilo = status.Placement.FirstOrDefault(p => p.Stage == s)?.SiloName;
            var target = Cluster.Silos.FirstOrDefault(x => x != Cluster.Primary && x.Name != stageSilo);
            if (target is null) continue;
            // No touch: clients may not call a holder (an internal grain), and it is active already — HostOf found it.
            await MoveTo(holder, () => Task.FromResult(true), target.Name);
            say($"{round}: holder of s{s} moved from {Cluster.Primary.Name} to {target.Name} (stage s{s} on {stageSilo})");
        }
    }
}
