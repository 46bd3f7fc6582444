using Cluster.Grains.Interfaces.Events;

namespace Cluster.Grains.Tests;

/// <summary>
/// A job's recorded history (its <see cref="IJobEventLogGrain"/>, or the cluster's node history under
/// <see cref="EventLogKeys.Cluster"/>) for tests that lose silos. The live event stream loses what its queue held on a
/// silo that dies, so a test asserting on it after a kill can fail, or pass, by accident; a publisher records an event
/// before it streams it, and a history kept on the primary silo (which no test kills) loses nothing.
/// </summary>
internal static class JobHistory
{
    /// <summary>Moves the history grain <paramref name="log"/> (a job id or <see cref="EventLogKeys.Cluster"/>) onto the primary silo.</summary>
    public static Task KeepOnPrimary(ClusterFixture fixture, string log)
    {
        var grain = fixture.Client.GetGrain<IJobEventLogGrain>(log);
        return fixture.MoveGrainAsync(grain, fixture.Cluster.Silos[0], () => grain.GetPage(new JobEventQuery(1)));
    }

    /// <summary>
    /// Every event recorded in <paramref name="log"/>, oldest first; fails if the log dropped any (a test reading it
    /// would miss them). Each page is retried while the client's gateway list still names a silo the test just killed.
    /// </summary>
    public static async Task<ClusterEvent[]> All(ClusterFixture fixture, string log)
    {
        var grain = fixture.Client.GetGrain<IJobEventLogGrain>(log);
        List<ClusterEvent> events = [];
        long after = 0;
        while (true)
        {
            long from = after;
            var page = await SnapshotRedundancyCluster.Reliably(() => grain.GetPage(new JobEventQuery(1000, After: from)), $"the history {log}");
            if (page.Dropped > 0) Assert.Fail($"the history {log} dropped its {page.Dropped} oldest events: a test reading it would miss them");
            events.AddRange(page.Events.Select(r => r.Event));
            if (!page.MoreAfter || page.Events.Count == 0) return [.. events];
            after = page.Events[^1].Seq;
        }
    }

    /// <summary>The events of <paramref name="kind"/> recorded in <paramref name="log"/>, oldest first.</summary>
    public static async Task<ClusterEvent[]> Recorded(ClusterFixture fixture, string log, ClusterEventKind kind) =>
        [.. (await All(fixture, log)).Where(e => e.Kind == kind)];

    /// <summary>
    /// The events recorded in <paramref name="log"/>, once <paramref name="done"/> holds of them (within 30 s); a
    /// timeout says what the history held.
    /// </summary>
    public static async Task<ClusterEvent[]> When(ClusterFixture fixture, string log, Func<ClusterEvent[], bool> done, string what)
    {
        ClusterEvent[] seen = [];
        try
        {
            return await Eventually.Value(async () => seen = await All(fixture, log), done, TimeSpan.FromSeconds(30), $"{what} in the history {log}");
        }
        catch (Xunit.Sdk.FailException e)
        {
            throw new Xunit.Sdk.XunitException($"{e.Message} It held: {Told(seen)}");
        }
    }

    /// <summary>One line per event, to say what a history held when an assertion on it fails.</summary>
    public static string Told(IEnumerable<ClusterEvent> events) => string.Join(" | ", events.Select(e => $"{e.Kind} step {e.Step} epoch {e.Epoch} lost {e.StepsLost}: {e.Message}"));
}
