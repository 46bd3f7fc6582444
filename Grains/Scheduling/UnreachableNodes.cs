using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Scheduling;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;
using Orleans.Runtime.Messaging;

namespace Cluster.Grains.Scheduling;

/// <summary>
/// A job's report path into the scheduler (issue 13, "recovery flaps onto dead nodes"): the nodes a failure shows
/// unreachable — those on silos Orleans could not deliver to — are reported before the job places again, so the
/// scheduler does not put its stages straight back on them while their heartbeats still look fresh.
/// </summary>
internal static class UnreachableNodes
{
    /// <summary>
    /// The job's nodes on silos named in an <see cref="OrleansMessageRejectionException"/> (such as
    /// <see cref="SiloUnavailableException"/>) or a <see cref="ConnectionFailedException"/> in <paramref name="failure"/>
    /// (Orleans carries the silo address only in the message text; the job's own silo, the sender, is left out). The job's own silo, <paramref name="self"/>, is running this code and is never reported.
    /// </summary>
    public static string[] In(Exception failure, IEnumerable<StagePlacement> placement, IEnumerable<ClusterMember> members, SiloAddress self)
    {
        ArgumentNullException.ThrowIfNull(failure);
        string[] messages = [.. Chain(failure).Where(IsUndelivered).Select(e => TargetPart(e.Message))];
        if (messages.Length == 0) return [];
        var silos = members.Where(m => !m.SiloAddress.Equals(self) && messages.Any(text => Names(text, m.SiloAddress.ToString())))
            .Select(m => m.Name).ToHashSet(StringComparer.Ordinal);
        return [.. placement.Where(p => silos.Contains(p.SiloName)).Select(p => p.NodeId).Distinct(StringComparer.Ordinal)];
    }

    /// <summary>
    /// The one classifier of "the far silo is gone (or going)": the call never reached a live activation there. Orleans
    /// says so with an <see cref="OrleansMessageRejectionException"/> (such as <see cref="SiloUnavailableException"/>)
    /// or a <see cref="ConnectionFailedException"/>, possibly wrapped (an <see cref="AggregateException"/> from
    /// <c>Task.WhenAll</c>, an <see cref="OrleansException"/> around it). A stage retrying a lost snapshot holder and a
    /// job reporting unreachable nodes both ask this.
    /// </summary>
    public static bool IsDeliveryFailure(Exception failure) => Chain(failure).Any(IsUndelivered);

    private static bool IsUndelivered(Exception e) => e is OrleansMessageRejectionException or ConnectionFailedException;

    /// <summary>
    /// Tells the scheduler without waiting for it (its silo may be the one that died): the job's next placement request
    /// follows this message. Failures are observed and dropped — the report only makes recovery faster, and the
    /// scheduler's own failure detection still rules the node out after NodeTimeout.
    /// </summary>
    public static void Report(IGrainFactory grains, IServiceProvider services, string jobId, Exception failure, IEnumerable<StagePlacement> placement)
    {
        var membership = services.GetRequiredService<IClusterMembershipService>().CurrentSnapshot;
        var self = services.GetRequiredService<ILocalSiloDetails>().SiloAddress;
        string[] nodes = In(failure, placement, membership.Members.Values, self);
        if (nodes.Length == 0) return;
        _ = grains.GetGrain<ISchedulerGrain>(SchedulerKeys.Default).ReportUnreachable(jobId, nodes, ShortMessage(failure))
            .ContinueWith(t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
    }

    /// <summary>
    /// The part of a rejection's text that names where the message was going: Orleans writes a message as
    /// <c>Request [sender]->[target] …</c>, and the sender can be a healthy stage of this job that called a dead one (a
    /// stage handing a snapshot to a holder whose silo died, an activation to the next stage). Reporting the sender
    /// moved a healthy stage — and, before stages took their own snapshot copies along, lost its last copy (issue 16).
    /// A text without an arrow (a failed connection) names only the far end.
    /// </summary>
    private static string TargetPart(string text)
    {
        int arrow = text.IndexOf("->", StringComparison.Ordinal);
        return arrow < 0 ? text : text[(arrow + 2)..];
    }

    private static string ShortMessage(Exception failure) => failure.Message.Length <= 200 ? failure.Message : failure.Message[..200] + "…";

    /// <summary>The address occurs in the text as a whole (a generation 12 does not match inside 123).</summary>
    private static bool Names(string text, string address)
    {
        for (int at = text.IndexOf(address, StringComparison.Ordinal); at >= 0; at = text.IndexOf(address, at + 1, StringComparison.Ordinal))
        {
            int end = at + address.Length;
            if (end == text.Length || !char.IsAsciiDigit(text[end])) return true;
        }
        return false;
    }

    private static IEnumerable<Exception> Chain(Exception failure)
    {
        var pending = new Stack<Exception>([failure]);
        while (pending.TryPop(out var e))
        {
            yield return e;
            if (e is AggregateException aggregate)
                foreach (var inner in aggregate.InnerExceptions) pending.Push(inner);
            else if (e.InnerException is { } inner)
                pending.Push(inner);
        }
    }
}
