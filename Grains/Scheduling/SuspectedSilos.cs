using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Runtime;

namespace Cluster.Grains.Scheduling;

/// <summary>
/// The silos Orleans membership suspects (issue 13, "recovery flaps onto dead nodes"): Active rows of the membership
/// table with a suspicion vote younger than <see cref="ClusterMembershipOptions.DeathVoteExpirationTimeout"/>. Their
/// nodes are not placeable (see <see cref="SchedulerGrain"/>): a silo one peer could not probe is likely the one a job
/// just failed to reach, and Orleans needs more votes (fleet profile) or more time to declare it dead. A silo proves alive
/// again when its votes expire, as they do in Orleans itself.
/// <para>
/// Invariant: placement never stalls on the membership table. The table is read at most once per
/// <see cref="ReadInterval"/>, one read at a time; a caller waits at most <see cref="ReadTimeout"/> for it and then uses
/// the last set known (empty before the first read), and a read that failed or still hangs is logged once, not per
/// decision. Owned by one scheduler activation (its calls never run in parallel), so it needs no lock.
/// </para>
/// </summary>
internal sealed partial class SuspectedSilos(IMembershipVotes votes, IOptions<ClusterMembershipOptions> membership, TimeProvider time, ILogger<SuspectedSilos> logger)
{
    public static readonly TimeSpan ReadInterval = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(2);

    private static readonly IReadOnlyDictionary<string, DateTimeOffset> None = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);

    private IReadOnlyDictionary<string, DateTimeOffset> _known = None;
    private DateTimeOffset _readAt = DateTimeOffset.MinValue;
    private Task? _reading;
    private bool _waitedOut; // a caller already waited ReadTimeout for the read in flight: the others do not
    private bool _failing;

    /// <summary>
    /// The last set known, by silo name with each one's latest fresh vote, without waiting; starts a read when the set
    /// is older than <see cref="ReadInterval"/>, for the next caller.
    /// </summary>
    public IReadOnlyDictionary<string, DateTimeOffset> Known
    {
        get
        {
            StartReadIfDue();
            return _known;
        }
    }

    /// <summary>The set, read again if older than <see cref="ReadInterval"/>, waiting at most <see cref="ReadTimeout"/>.</summary>
    public async Task<IReadOnlyDictionary<string, DateTimeOffset>> Current()
    {
        StartReadIfDue();
        if (_reading is not { } reading || _waitedOut) return _known;
        try
        {
            await reading.WaitAsync(ReadTimeout, time);
        }
        catch (TimeoutException)
        {
            if (ReferenceEquals(reading, _reading))
            {
                _waitedOut = true;
                if (!_failing)
                {
                    _failing = true;
                    LogReadHangs(logger, ReadTimeout.TotalSeconds, _known.Count);
                }
            }
        }
        return _known;
    }

    /// <summary>
    /// Pure: the Active silos of <paramref name="entries"/> with a vote younger than <paramref name="expiration"/> at
    /// <paramref name="now"/>, each with its latest such vote. A vote from the future (the voter's clock ahead of this
    /// one) counts as fresh, as Orleans counts it.
    /// </summary>
    public static Dictionary<string, DateTimeOffset> Judge(IEnumerable<MembershipEntry> entries, DateTimeOffset now, TimeSpan expiration)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var suspected = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            if (entry.Status != SiloStatus.Active || entry.SiloName is null || entry.SuspectTimes is not { Count: > 0 } times) continue;
            foreach (var (_, at) in times)
            {
                var vote = new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc)); // Orleans stamps votes in UTC
                if (now - vote >= expiration) continue;
                if (!suspected.TryGetValue(entry.SiloName, out var latest) || vote > latest) suspected[entry.SiloName] = vote;
            }
        }
        return suspected;
    }

    private void StartReadIfDue()
    {
        var now = time.GetUtcNow();
        if (_reading is not null || now - _readAt < ReadInterval) return;
        _readAt = now;
        _waitedOut = false;
        var reading = Read();
        _reading = reading.IsCompleted ? null : reading; // a read that completed at once has already cleared _reading
    }

    private async Task Read()
    {
        try
        {
            var entries = await votes.ReadActive();
            var suspected = Judge(entries, time.GetUtcNow(), membership.Value.DeathVoteExpirationTimeout);
            foreach (string silo in suspected.Keys.Where(s => !_known.ContainsKey(s)))
                LogSuspected(logger, silo, suspected[silo]);
            _known = suspected;
            if (_failing)
            {
                _failing = false;
                LogReadable(logger, suspected.Count);
            }
        }
        catch (Exception e)
        {
            if (!_failing)
            {
                _failing = true;
                LogReadFailed(logger, e, _known.Count);
            }
        }
        finally
        {
            _reading = null;
        }
    }
}
