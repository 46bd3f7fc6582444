using System.Text.Json;
using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Core.Internal;

namespace Cluster.Client.Tests;

/// <summary>
/// The console's commands that need the cluster's operator support: a job's recorded history (<c>job events</c>),
/// <c>job update</c>, <c>job delete</c>, operator reasons on nodes and events, and paged <c>job losses</c>.
/// </summary>
[Collection(ConsoleClusterCollection.Name)]
public sealed class OperatorHistoryTests(ConsoleClusterFixture fixture)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task Job_events_page_through_the_recorded_operator_actions_with_their_reasons()
    {
        const string id = "cli-hist-1";
        await Submit(id);
        try
        {
            await Running(id);
            var paused = await ConsoleHarness.RunAsync(fixture.Client, "job", "pause", id, "--reason", "rack maintenance", "--json");
            Assert.True(paused.ExitCode == 0, paused.ToString());
            var updated = await ConsoleHarness.RunAsync(fixture.Client, "job", "update", id, "--priority", "7", "--reason", "deadline friday", "--json");
            Assert.True(updated.ExitCode == 0, updated.ToString());
            Assert.Equal(7, updated.Json().GetProperty("priority").GetInt32());
            var cancelled = await ConsoleHarness.RunAsync(fixture.Client, "job", "cancel", id, "--reason", "superseded by v2");
            Assert.True(cancelled.ExitCode == 0, cancelled.ToString());

            // Recording is fire-and-forget: wait for the three actions to be in the history.
            JsonElement page = default;
            await Eventually.True(async () =>
            {
                page = (await ConsoleHarness.RunAsync(fixture.Client, "job", "events", id, "--json")).Json();
                return page.GetProperty("events").EnumerateArray().Any(e => e.GetProperty("kind").GetString() == nameof(ClusterEventKind.JobCancelRequested));
            }, Deadline, "the cancel to be recorded");
            var events = page.GetProperty("events").EnumerateArray().ToArray();
            var reasons = events.Where(e => e.GetProperty("reason").ValueKind == JsonValueKind.String)
                .Select(e => (e.GetProperty("kind").GetString(), e.GetProperty("reason").GetString())).ToArray();
            Assert.Equal(
                [(nameof(ClusterEventKind.JobPaused), "rack maintenance"), (nameof(ClusterEventKind.JobUpdated), "deadline friday"), (nameof(ClusterEventKind.JobCancelRequested), "superseded by v2")],
                reasons);
            Assert.Contains("priority 0 → 7", events.Single(e => e.GetProperty("kind").GetString() == nameof(ClusterEventKind.JobUpdated)).GetProperty("message").GetString());
            long[] seqs = [.. events.Select(e => e.GetProperty("seq").GetInt64())];
            Assert.Equal(seqs.Order(), seqs);

            // Paging: the newest one, then the one before it through the cursor.
            var newest = (await ConsoleHarness.RunAsync(fixture.Client, "job", "events", id, "--limit", "1", "--json")).Json();
            var only = Assert.Single(newest.GetProperty("events").EnumerateArray());
            Assert.Equal(seqs[^1], only.GetProperty("seq").GetInt64());
            long cursor = newest.GetProperty("olderCursor").GetInt64();
            var before = (await ConsoleHarness.RunAsync(fixture.Client, "job", "events", id, "--limit", "1", "--before", $"{cursor}", "--json")).Json();
            Assert.Equal(seqs[^2], Assert.Single(before.GetProperty("events").EnumerateArray()).GetProperty("seq").GetInt64());
            var after = (await ConsoleHarness.RunAsync(fixture.Client, "job", "events", id, "--after", $"{seqs[0]}", "--limit", "2", "--json")).Json();
            Assert.Equal(seqs[1..3], after.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("seq").GetInt64()));

            var table = await ConsoleHarness.RunAsync(fixture.Client, "job", "events", id, "--limit", "1");
            Assert.True(table.ExitCode == 0, table.ToString());
            Assert.Contains("JobCancelRequested", table.Out);
            Assert.Contains($"older: --before {cursor}", table.Out);
            var wide = await ConsoleHarness.RunAsync(fixture.Client, "job", "events", id, "-o", "wide");
            Assert.Contains("superseded by v2", wide.Out);
            var yaml = await ConsoleHarness.RunAsync(fixture.Client, "job", "events", id, "-o", "yaml");
            Assert.Contains("reason: rack maintenance", yaml.Out + yaml.Raw);
            var names = await ConsoleHarness.RunAsync(fixture.Client, "job", "events", id, "-o", "name");
            Assert.Equal(seqs.Select(s => $"{s}"), (names.Raw + names.Out).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct());

            var bad = await ConsoleHarness.RunAsync(fixture.Client, "job", "events", id, "--limit", "0");
            Assert.Equal(ExitCodes.Usage, bad.ExitCode);
            Assert.Contains("--limit 0", bad.Error);
        }
        finally
        {
            await ConsoleHarness.RunAsync(fixture.Client, "job", "cancel", id);
        }
    }

    [Fact]
    public async Task The_event_log_is_bounded_and_persisted()
    {
        // Events are recorded by the silos (clients may only read them): append through a silo's own grain factory.
        var log = fixture.Cluster.Silos[0].ServiceProvider.GetRequiredService<IGrainFactory>().GetGrain<IJobEventLogGrain>("cli-hist-bounded");
        var reader = fixture.Client.GetGrain<IJobEventLogGrain>("cli-hist-bounded");
        const int appended = 1300;
        for (int i = 1; i <= appended; i++)
            await log.Append(new ClusterEvent(DateTimeOffset.UtcNow, ClusterEventKind.JobUpdated, "cli-hist-bounded", null, 1, i, 0, null, $"event {i}"));

        var page = await Eventually.Value(() => reader.GetPage(new JobEventQuery(1000)), p => p.Last == appended, Deadline, "every append to be recorded");
        long kept = page.Last - page.FirstKept + 1;
        Assert.True(kept < appended && page.Dropped == appended - kept, $"kept {kept}, dropped {page.Dropped}");
        Assert.True(kept >= 900, $"kept {kept}"); // whole chunks are dropped: most of the capacity stays
        Assert.Equal(Math.Min(1000, kept), page.Events.Count);
        Assert.Equal($"event {appended}", page.Events[^1].Event.Message);
        Assert.Equal(kept > 1000, page.MoreBefore);
        var newest = await reader.GetPage(new JobEventQuery(100));
        Assert.True(newest.MoreBefore && !newest.MoreAfter);
        Assert.Equal(appended - 99, newest.Events[0].Seq);

        // A fresh activation reads the same history back from storage.
        await log.Cast<IGrainManagementExtension>().DeactivateOnIdle();
        var reread = await Eventually.Value(() => reader.GetPage(new JobEventQuery(1000, After: page.FirstKept - 1)), p => p.Events.Count > 0, Deadline, "the log to reactivate");
        Assert.Equal(page.FirstKept, reread.Events[0].Seq);
        Assert.Equal(appended, reread.Last);
        Assert.Equal($"event {page.FirstKept}", reread.Events[0].Event.Message);
        await log.Clear();
        Assert.Equal(0, (await log.GetPage(new JobEventQuery(10))).Last);
    }

    [Fact]
    public async Task Delete_refuses_a_running_job_without_force_and_removes_it_with_force_keeping_its_history()
    {
        const string id = "cli-delete-1";
        await Submit(id);
        try
        {
            await Running(id);
            var refused = await ConsoleHarness.RunAsync(fixture.Client, "job", "delete", id);
            Assert.Equal(ExitCodes.Usage, refused.ExitCode);
            Assert.Contains("--force", refused.Error);
            Assert.Contains($"job cancel {id}", refused.Error);

            var deleted = await ConsoleHarness.RunAsync(fixture.Client, "job", "delete", id, "--force", "--reason", "wrong data", "--json");
            Assert.True(deleted.ExitCode == 0, deleted.ToString());
            var json = deleted.Json();
            Assert.True(json.GetProperty("cancelled").GetBoolean());
            Assert.False(json.GetProperty("purged").GetBoolean());
            Assert.Equal("Cancelled", json.GetProperty("state").GetString());

            var jobs = await ConsoleHarness.RunAsync(fixture.Client, "jobs", "-o", "name");
            Assert.DoesNotContain(id, jobs.Raw + jobs.Out);
            var show = await ConsoleHarness.RunAsync(fixture.Client, "job", "show", id);
            Assert.Equal(ExitCodes.NotFound, show.ExitCode);
            // Not purged: the history stays readable, ending with the deletion and its reason.
            var history = await Eventually.Value(async () => (await ConsoleHarness.RunAsync(fixture.Client, "job", "events", id, "--json")).Json(),
                h => h.GetProperty("events").EnumerateArray().Any(e => e.GetProperty("kind").GetString() == nameof(ClusterEventKind.JobDeleted)), Deadline, "the deletion to be recorded");
            Assert.Equal("wrong data", history.GetProperty("events").EnumerateArray().Last().GetProperty("reason").GetString());
        }
        finally
        {
            await ConsoleHarness.RunAsync(fixture.Client, "job", "cancel", id);
        }
    }

    [Fact]
    public async Task Delete_with_purge_removes_the_checkpoints_and_history_and_frees_the_id()
    {
        const string id = "cli-delete-2";
        var submitted = await ConsoleHarness.RunAsync(fixture.Client, ["job", "submit", .. TinySpecs.Flags(id, steps: 6)]);
        Assert.True(submitted.ExitCode == 0, submitted.ToString());
        Assert.Equal(ExitCodes.Ok, (await ConsoleHarness.RunAsync(fixture.Client, "job", "watch", id)).ExitCode);
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(id);
        Assert.NotEmpty(await job.ListCheckpoints());

        var purged = await ConsoleHarness.RunAsync(fixture.Client, "job", "delete", id, "--purge", "--json");

        Assert.True(purged.ExitCode == 0, purged.ToString());
        Assert.True(purged.Json().GetProperty("checkpointsDeleted").GetInt32() >= 1);
        Assert.Empty(await job.ListCheckpoints());
        Assert.DoesNotContain(id, await fixture.Client.GetGrain<IJobRegistryGrain>(JobRegistryKeys.Default).GetAll());
        var events = await ConsoleHarness.RunAsync(fixture.Client, "job", "events", id);
        Assert.Equal(ExitCodes.NotFound, events.ExitCode);
        // The id is free again.
        var again = await ConsoleHarness.RunAsync(fixture.Client, ["job", "submit", .. TinySpecs.Flags(id, steps: 2)]);
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Equal(ExitCodes.Ok, (await ConsoleHarness.RunAsync(fixture.Client, "job", "watch", id)).ExitCode);
    }

    [Fact]
    public async Task Update_reorders_the_queue_at_once_and_refuses_bad_values_naming_the_fix()
    {
        var nodes = (await ConsoleHarness.RunAsync(fixture.Client, "nodes", "-o", "name")).Raw.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        try
        {
            // Every node cordoned: both jobs wait in the queue, first come first served.
            var cordoned = await ConsoleHarness.RunAsync(fixture.Client, "node", "cordon", "*", "--reason", "queue test");
            Assert.True(cordoned.ExitCode == 0, cordoned.ToString());
            await Submit("cli-update-a");
            await Submit("cli-update-b");
            await Eventually.True(async () => await QueueOrder() is ["cli-update-a", "cli-update-b"], Deadline, "both jobs to queue");

            var updated = await ConsoleHarness.RunAsync(fixture.Client, "job", "update", "cli-update-b", "--priority", "10");
            Assert.True(updated.ExitCode == 0, updated.ToString());
            Assert.Contains("priority 10", updated.Out);
            Assert.Equal(["cli-update-b", "cli-update-a"], await QueueOrder());
            var shown = (await ConsoleHarness.RunAsync(fixture.Client, "job", "show", "cli-update-b", "--json")).Json();
            Assert.Equal(10, shown.GetProperty("spec").GetProperty("priority").GetInt32());

            var tooHigh = await ConsoleHarness.RunAsync(fixture.Client, "job", "update", "cli-update-b", "--priority", "5000");
            Assert.Equal(ExitCodes.Usage, tooHigh.ExitCode);
            Assert.Contains("use a value from -1000 to 1000", tooHigh.Error);
            var notASplit = await ConsoleHarness.RunAsync(fixture.Client, "job", "update", "cli-update-b", "--max-replicas", "3");
            Assert.Equal(ExitCodes.Usage, notASplit.ExitCode);
            Assert.Contains("maxReplicas: 3 cannot split microBatches 2", notASplit.Error);
            var nothing = await ConsoleHarness.RunAsync(fixture.Client, "job", "update", "cli-update-b");
            Assert.Equal(ExitCodes.Usage, nothing.ExitCode);
            Assert.Contains("--priority", nothing.Error);

            var listed = await ConsoleHarness.RunAsync(fixture.Client, "nodes");
            Assert.Contains("cordoned (queue test)", listed.Out);
        }
        finally
        {
            await ConsoleHarness.RunAsync(fixture.Client, "job", "cancel", "cli-update-a");
            await ConsoleHarness.RunAsync(fixture.Client, "job", "cancel", "cli-update-b");
            await ConsoleHarness.RunAsync(fixture.Client, "node", "uncordon", "*");
        }
        Assert.NotEmpty(nodes);
        var finished = await ConsoleHarness.RunAsync(fixture.Client, "job", "update", "cli-update-a", "--priority", "1");
        Assert.Equal(ExitCodes.Failed, finished.ExitCode);
        Assert.Contains("Cancelled; a finished job cannot be updated", finished.Error);
    }

    [Fact]
    public async Task Lowering_the_replica_maximum_shrinks_a_running_elastic_job()
    {
        const string id = "cli-update-replicas";
        var submitted = await ConsoleHarness.RunAsync(fixture.Client, ["job", "submit", .. TinySpecs.Flags(id, steps: 5000), "--min-replicas", "1", "--max-replicas", "2"]);
        Assert.True(submitted.ExitCode == 0, submitted.ToString());
        try
        {
            await Eventually.True(async () => (await Job(id)).GetProperty("replicas").GetInt32() == 2, Deadline, "the job to run 2 replicas");

            var updated = await ConsoleHarness.RunAsync(fixture.Client, "job", "update", id, "--max-replicas", "1", "--json");
            Assert.True(updated.ExitCode == 0, updated.ToString());
            Assert.Equal(1, updated.Json().GetProperty("maxReplicas").GetInt32());

            await Eventually.True(async () => (await Job(id)) is var j && j.GetProperty("replicas").GetInt32() == 1 && j.GetProperty("state").GetString() == "Running",
                Deadline, "the job to shrink to 1 replica");
        }
        finally
        {
            await ConsoleHarness.RunAsync(fixture.Client, "job", "cancel", id);
        }
    }

    [Fact]
    public async Task Drain_needs_a_reason_which_nodes_and_job_show_display()
    {
        var refused = await ConsoleHarness.RunAsync(fixture.Client, "node", "drain", (await SiloNodes.OfAsync(fixture.Client, "Silo_0"))[0]);
        Assert.Equal(ExitCodes.Usage, refused.ExitCode);
        Assert.Contains("--reason", refused.Error);

        const string id = "cli-reason-1";
        await Submit(id);
        string node = (await Running(id))[0];
        try
        {
            var cordoned = await ConsoleHarness.RunAsync(fixture.Client, "node", "cordon", node, "--reason", "fan failure", "--json");
            Assert.True(cordoned.ExitCode == 0, cordoned.ToString());
            Assert.Equal("fan failure", cordoned.Json().GetProperty("reason").GetString());
            var nodes = (await ConsoleHarness.RunAsync(fixture.Client, "nodes", "--json")).Json();
            Assert.Equal("fan failure", nodes.EnumerateArray().Single(n => n.GetProperty("nodeId").GetString() == node).GetProperty("reason").GetString());
            var show = await ConsoleHarness.RunAsync(fixture.Client, "job", "show", id);
            Assert.Contains($"node {node} cordoned: fan failure", show.Out);

            var drained = await ConsoleHarness.RunAsync(fixture.Client, "node", "drain", node, "--reason", "replace fan");
            Assert.True(drained.ExitCode == 0, drained.ToString());
            // The job's history says why its stages moved.
            await Eventually.True(async () => (await ConsoleHarness.RunAsync(fixture.Client, "job", "events", id, "--json")).Json().GetProperty("events").EnumerateArray()
                .Any(e => e.GetProperty("kind").GetString() == nameof(ClusterEventKind.StagesMoved) && e.GetProperty("message").GetString()!.Contains("replace fan", StringComparison.Ordinal)),
                Deadline, "the move to be recorded with the drain's reason");
        }
        finally
        {
            await ConsoleHarness.RunAsync(fixture.Client, "node", "uncordon", node);
            await ConsoleHarness.RunAsync(fixture.Client, "job", "cancel", id);
        }
        var after = (await ConsoleHarness.RunAsync(fixture.Client, "nodes", "--json")).Json();
        Assert.Equal(JsonValueKind.Null, after.EnumerateArray().Single(n => n.GetProperty("nodeId").GetString() == node).GetProperty("reason").ValueKind);
    }

    [Fact]
    public async Task Losses_are_paged_from_the_job()
    {
        const string id = "cli-losspage-1";
        var submitted = await ConsoleHarness.RunAsync(fixture.Client, ["job", "submit", .. TinySpecs.Flags(id, steps: 6)]);
        Assert.True(submitted.ExitCode == 0, submitted.ToString());
        Assert.Equal(ExitCodes.Ok, (await ConsoleHarness.RunAsync(fixture.Client, "job", "watch", id)).ExitCode);
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(id);
        var all = await job.GetLossHistory();

        var first = (await ConsoleHarness.RunAsync(fixture.Client, "job", "losses", id, "--limit", "2", "--json")).Json();
        Assert.Equal([1L, 2L], first.EnumerateArray().Select(p => p.GetProperty("step").GetInt64()));
        Assert.Equal(all[0], first[0].GetProperty("loss").GetDouble());
        var table = await ConsoleHarness.RunAsync(fixture.Client, "job", "losses", id, "--limit", "2", "--from", "3");
        Assert.Contains("steps 3–4 of 6; next page: --from 5", table.Out);
        var last = (await ConsoleHarness.RunAsync(fixture.Client, "job", "losses", id, "--from", "5", "--limit", "10", "--json")).Json();
        Assert.Equal([all[4], all[5]], last.EnumerateArray().Select(p => p.GetProperty("loss").GetDouble()));

        var page = await job.GetLosses(2, 3);
        Assert.Equal((2L, 6L), (page.FromStep, page.TotalSteps));
        Assert.Equal(all.Skip(1).Take(3), page.Losses);
        Assert.Empty((await job.GetLosses(7, 10)).Losses);
        await Assert.ThrowsAnyAsync<ArgumentOutOfRangeException>(() => job.GetLosses(0, 10));

        var both = await ConsoleHarness.RunAsync(fixture.Client, "job", "losses", id, "--limit", "2", "--tail", "2");
        Assert.Equal(ExitCodes.Usage, both.ExitCode);
    }

    private async Task Submit(string jobId)
    {
        var submitted = await ConsoleHarness.RunAsync(fixture.Client, ["job", "submit", .. TinySpecs.Flags(jobId, steps: 5000)]);
        Assert.True(submitted.ExitCode == 0, submitted.ToString());
    }

    private async Task<JsonElement> Job(string jobId) =>
        (await ConsoleHarness.RunAsync(fixture.Client, "job", "show", jobId, "--json")).Json().GetProperty("job");

    private async Task<string[]> QueueOrder() =>
        [.. (await ConsoleHarness.RunAsync(fixture.Client, "queue", "--json")).Json().EnumerateArray()
            .Select(q => q.GetProperty("jobId").GetString()!).Where(j => j.StartsWith("cli-update-", StringComparison.Ordinal))];

    /// <summary>Node per stage once the job runs and has completed a step.</summary>
    private async Task<string[]> Running(string jobId)
    {
        JsonElement detail = default;
        await Eventually.True(async () =>
        {
            detail = (await ConsoleHarness.RunAsync(fixture.Client, "job", "show", jobId, "--json")).Json();
            var job = detail.GetProperty("job");
            return job.GetProperty("state").GetString() == "Running" && job.GetProperty("completedSteps").GetInt64() >= 2;
        }, Deadline, $"{jobId} to run");
        return [.. detail.GetProperty("placement").EnumerateArray().Select(p => p.GetProperty("nodeId").GetString()!)];
    }
}
