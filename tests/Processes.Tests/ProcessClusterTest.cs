using Orleans.Core.Internal;
using Orleans.Runtime;
using Orleans.Runtime.Placement;
using Xunit.Sdk;

namespace Cluster.Processes.Tests;

/// <summary>
/// A fresh cluster of 3 silo processes × 2 CPU slots on loopback per test (a failure changes a cluster for good), with
/// a client and the cluster's event stream; every process is killed when the test ends, however it ends. Assertion
/// messages carry the job's events and the tail of every silo's log.
/// </summary>
public abstract partial class ProcessClusterTest : IAsyncLifetime
{
    /// <summary>Silo processes of this test class, the primary included (3 by default).</summary>
    protected virtual int Silos => 3;
    protected const int SlotsPerSilo = 2;

    private EventCollector? _events;

    protected string DataRoot { get; } = Path.Combine(Path.GetTempPath(), "cluster-tests", "processes-" + Guid.NewGuid().ToString("N")[..12]);

    protected SiloProcessCluster Cluster { get; private set; } = null!;

    protected IReadOnlyCollection<ClusterEvent> Events => _events?.Events ?? [];

    /// <summary>More <c>--Key=Value</c> settings for every silo of this test class (none by default).</summary>
    protected virtual IReadOnlyList<string> SiloSettings => [];

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Path.Combine(DataRoot, "checkpoints"));
        Cluster = await SiloProcessCluster.StartAsync(new SiloProcessClusterOptions
        {
            SiloAssembly = SiloProgram.Locate(typeof(ProcessClusterTest).Assembly),
            Silos = Silos,
            SlotsPerSilo = SlotsPerSilo,
            ThreadsPerSlot = 1,
            DataRoot = DataRoot,
            Settings = SiloSettings,
        });
        try
        {
            await Cluster.WaitForReadyNodesAsync(Silos * SlotsPerSilo, TimeSpan.FromMinutes(2));
            _events = await EventCollector.StartAsync(Cluster.Client);
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        if (_events is not null) await _events.DisposeAsync();
        if (Cluster is not null) await Cluster.DisposeAsync();
        if (Environment.GetEnvironmentVariable("CLUSTER_KEEP_TEST_DATA") == "1") return; // logs, state and checkpoints, to look at
        try
        {
            Directory.Delete(DataRoot, recursive: true);
        }
        catch (IOException)
        {
            // best effort: a temp folder
        }
    }

    /// <summary>
    /// Submits the job with its grain on silo 1 — never the primary, so losing the job grain's silo never takes the
    /// membership table with it; a stage silo to lose is then silo 2. Returns the job and the job grain's silo.
    /// </summary>
    protected async Task<(ITrainingJobGrain Job, JobSpec Spec, string Host, JobStatus Submitted)> SubmitOnSilo1(JobSpec spec)
    {
        var job = Cluster.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        string host = Cluster.Silos[1].Name;
        await Retry(() => Cluster.ActivateOn(host, job.GetStatus)); // activates the (empty) grain there
        string? actual = await Retry(() => Cluster.HostOf(job));
        Assert.True(actual == host, $"the job grain should have been placed on {host}, not on {actual ?? "no silo"}.{Environment.NewLine}{Cluster.Diagnostics()}");
        await KeepHistoryOnPrimary(spec.JobId);
        var submitted = await job.Submit(spec); // its epoch is the one before any failure (a status read later may come after one)
        return (job, spec, host, submitted);
    }

    /// <summary>
    /// Waits until the job runs past <paramref name="step"/>; fails if it ends first. A tiny job runs a step in tens of
    /// milliseconds, so a test that acts after this returns needs steps enough after <paramref name="step"/> to outlast
    /// a loaded machine's stalls of the test process (seconds): CI on eee53e3 saw a 30-step job end between two polls
    /// that were to catch step 8.
    /// </summary>
    protected async Task<JobStatus> WaitForStep(ITrainingJobGrain job, long step)
    {
        var status = await WithDiagnostics(job.GetPrimaryKeyString(), () => Eventually.Value(job.GetStatus,
            s => (s.CompletedSteps >= step && s.State == JobState.Running) || IsEnded(s.State), TimeSpan.FromMinutes(2), $"the job to run past step {step}"));
        Assert.True(!IsEnded(status.State), $"the job ended ({status.State}: {status.Error}) before the test saw step {step}; give the job more steps after the one it waits for.{Environment.NewLine}{Diagnostics(status.JobId)}");
        return status;
    }

    /// <summary>
    /// The job ends Completed with every loss bit-identical to the reference trainer's; every committed checkpoint holds
    /// the reference's losses up to its step; and no recovery after <paramref name="beforeFailure"/> went back past a
    /// checkpoint committed before the failure (committed work is never lost).
    /// </summary>
    protected async Task AssertFinishedExactly(ITrainingJobGrain job, JobSpec spec, JobStatus beforeFailure)
    {
        var done = await AssertCompletedWithReferenceLosses(job, spec);
        Assert.True(done.Epoch > beforeFailure.Epoch, $"the failure should have started a new epoch (epoch {done.Epoch} before and after).{Environment.NewLine}{Diagnostics(spec.JobId)}");

        long committed = beforeFailure.LastCheckpointStep ?? 0;
        var restores = await WithDiagnostics(spec.JobId, () => Eventually.Value(() => RestoresAfter(spec.JobId, beforeFailure.Epoch), r => r.Length > 0, TimeSpan.FromSeconds(30),
            $"a JobRestored event of job {spec.JobId} after epoch {beforeFailure.Epoch} in its recorded history"));
        foreach (var restored in restores)
            Assert.True(restored.Step >= committed,
                $"epoch {restored.Epoch} restored step {restored.Step}, before the checkpoint at step {committed} committed before the failure.{Environment.NewLine}{Diagnostics(spec.JobId)}");
    }

    /// <summary>
    /// The job ends Completed with every loss bit-identical to the reference trainer's, and every committed checkpoint
    /// holds the reference's losses up to its step. Returns its final status.
    /// </summary>
    protected async Task<JobStatus> AssertCompletedWithReferenceLosses(ITrainingJobGrain job, JobSpec spec)
    {
        var done = await WithDiagnostics(spec.JobId, () => Eventually.Value(job.GetStatus, s => IsEnded(s.State), TimeSpan.FromMinutes(3), "the job to finish"));
        Assert.True(done.State == JobState.Completed, $"job ended {done.State}: {done.Error}{Environment.NewLine}{Diagnostics(spec.JobId)}");

        var expected = TinyJob.ReferenceLosses(spec);
        var losses = await Retry(job.GetLossHistory);
        Assert.Equal(expected.Length, losses.Count);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(BitConverter.DoubleToInt64Bits(expected[i]) == BitConverter.DoubleToInt64Bits(losses[i]),
                $"step {i}: reference {expected[i]:R}, cluster {losses[i]:R}{Environment.NewLine}{Diagnostics(spec.JobId)}");

        var manifests = await Retry(job.ListCheckpoints);
        Assert.True(manifests.Count > 0 && manifests[^1].Step == spec.Steps, $"the last checkpoint should be step {spec.Steps}: {string.Join(", ", manifests.Select(m => m.Step))}");
        foreach (var manifest in manifests)
        {
            Assert.Equal(manifest.Step, manifest.LossLog?.Count);
            Assert.True(BitConverter.DoubleToInt64Bits(manifest.Loss ?? double.NaN) == BitConverter.DoubleToInt64Bits(expected[manifest.Step - 1]),
                $"the checkpoint at step {manifest.Step} holds a loss ({manifest.Loss:R}) that differs from the reference's ({expected[manifest.Step - 1]:R})");
        }
        return done;
    }

    /// <summary>Runs a wait; if it fails, the failure carries the job's events and the silos' logs.</summary>
    protected async Task<T> WithDiagnostics<T>(string jobId, Func<Task<T>> wait)
    {
        try
        {
            return await wait();
        }
        catch (XunitException e)
        {
            throw new XunitException($"{e.Message}{Environment.NewLine}{Diagnostics(jobId)}");
        }
    }

    protected Task WithDiagnostics(string jobId, Func<Task> wait) => WithDiagnostics(jobId, async () => { await wait(); return true; });

    /// <summary>
    /// Puts the job's recorded history (its <see cref="IJobEventLogGrain"/>) on the primary, which no test loses. A
    /// test that loses a process asserts on that history, not on the live stream: the stream's queue may have lived in
    /// the lost process, and the events it held are gone from the stream (a publisher records an event before it streams it).
    /// </summary>
    protected async Task KeepHistoryOnPrimary(string jobId)
    {
        var history = Cluster.Client.GetGrain<IJobEventLogGrain>(jobId);
        Func<Task<JobEventPage>> touch = () => history.GetPage(new JobEventQuery(1));
        await Retry(() => Cluster.ActivateOn(Cluster.Primary.Name, touch));
        await MoveTo(history, touch, Cluster.Primary.Name); // at once when the placement hint was taken
    }

    /// <summary>
    /// Every event in the job's recorded history (on <paramref name="cluster"/>, by default this test's), oldest first;
    /// fails if the history dropped any.
    /// </summary>
    protected async Task<ClusterEvent[]> History(string jobId, SiloProcessCluster? cluster = null)
    {
        var history = (cluster ?? Cluster).Client.GetGrain<IJobEventLogGrain>(jobId);
        List<ClusterEvent> all = [];
        long after = 0;
        while (true)
        {
            long from = after;
            var page = await Retry(() => history.GetPage(new JobEventQuery(1000, After: from)));
            if (page.Dropped > 0) Assert.Fail($"the history of {jobId} dropped its {page.Dropped} oldest events: a test reading it would miss them");
            all.AddRange(page.Events.Select(r => r.Event));
            if (!page.MoreAfter || page.Events.Count == 0) return [.. all];
            after = page.Events[^1].Seq;
        }
    }

    /// <summary>The job's recorded restores in epochs after <paramref name="epoch"/> (see <see cref="KeepHistoryOnPrimary"/>).</summary>
    protected async Task<ClusterEvent[]> RestoresAfter(string jobId, long epoch) =>
        [.. (await History(jobId)).Where(e => e.Kind == ClusterEventKind.JobRestored && e.Epoch > epoch).OrderBy(e => e.Epoch)];

    /// <summary>Where the job grain and the scheduler live now, the job's events and every silo's log tail.</summary>
    protected string Diagnostics(string jobId)
    {
        var events = Events.Where(e => e.JobId == jobId || e.JobId is null).OrderBy(e => e.At)
            .Select(e => $"  {e.At:HH:mm:ss.fff} {e.Kind} epoch {e.Epoch} step {e.Step} lost {e.StepsLost}: {e.Message}");
        return $"events:{Environment.NewLine}{string.Join(Environment.NewLine, events)}{Environment.NewLine}{Cluster.Diagnostics()}";
    }

    /// <summary>
    /// Migrates <paramref name="grain"/>'s activation to the named silo (a placement hint on the migration; <paramref name="touch"/>
    /// activates it first) and waits until it is there.
    /// </summary>
    protected async Task MoveTo<T>(IAddressable grain, Func<Task<T>> touch, string siloName)
    {
        await Eventually.True(async () =>
        {
            await touch();
            if (await Cluster.HostOf(grain) == siloName) return true;
            var hosts = await Cluster.Client.GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: true);
            RequestContext.Set(IPlacementDirector.PlacementHintKey, hosts.First(h => h.SiloName == siloName).SiloAddress);
            try
            {
                await grain.AsReference<IGrainManagementExtension>().MigrateOnIdle();
            }
            finally
            {
                RequestContext.Remove(IPlacementDirector.PlacementHintKey);
            }
            return false;
        }, TimeSpan.FromSeconds(90), $"{grain.GetGrainId()} to move to {siloName}");
    }

    /// <summary>The silo hosting the scheduler now (for messages), or "?".</summary>
    protected async Task<string> SchedulerHost() =>
        await Retry(() => Cluster.HostOf(Cluster.Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default))) ?? "?";

    /// <summary>A client call that may go through a gateway that just died: retried until it answers.</summary>
    protected static Task<T> Retry<T>(Func<Task<T>> call) =>
        Eventually.Value(call, _ => true, TimeSpan.FromMinutes(1), "the cluster to answer");

    protected static bool IsEnded(JobState state) => state is JobState.Completed or JobState.Failed or JobState.Cancelled;
}
