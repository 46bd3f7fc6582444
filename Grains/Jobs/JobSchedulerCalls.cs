using Cluster.Grains.Interfaces.Scheduling;
using Cluster.Grains.Scheduling;

namespace Cluster.Grains.Jobs;

/// <summary>
/// Every call a job's coordinator makes to the scheduler and waits for goes through here. The one it does not wait for,
/// a recovery's report of unreachable nodes (<see cref="Scheduling.UnreachableNodes.Report"/>), is sent once and its
/// failure dropped: it only makes the recovery faster.
/// <para>
/// Invariant (the scheduler's silo leaving is not a failure of the job): the scheduler is one grain, and its silo may
/// leave gracefully like any other (a rolling update). Its activation is deactivated with the silo, and the stopping
/// silo rejects the calls that reach it meanwhile ("Silo stopping") before they run, until the next call activates
/// the scheduler on a silo that stays. So:
/// <list type="bullet">
/// <item>every call is sent again on such a rejection (<see cref="StoppingSiloRetry"/>). A rejected call did not run,
/// so sending it again is safe whatever it changes;</item>
/// <item>a question asked only for advice (<see cref="Advice{T}"/>: a faster placement, more replicas, a spare node for
/// a straggler) places nothing: the proposals change nothing in the scheduler, and a straggler's report only marks its
/// node. If one fails anyway, the job has no advice this time and asks again at its next chance (a straggler's report
/// at the next step). It is never a failure that makes the job recover.</item>
/// </list>
/// Found by <c>RollingRestartProcessTests</c> on CI (the default seed): the silo running both stages and the scheduler
/// left right at a checkpoint. The job asked the scheduler for a faster placement, as it does after every checkpoint
/// by default, was rejected, and recovered although nothing had failed.
/// </para>
/// </summary>
internal sealed class JobSchedulerCalls(IGrainFactory grains, TimeProvider time)
{
    private ISchedulerGrain Scheduler => grains.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);

    /// <summary>A call whose failure is the job's to handle; sent again while the scheduler's silo rejects it.</summary>
    public Task<T> Call<T>(Func<ISchedulerGrain, Task<T>> call) => StoppingSiloRetry.Call(() => call(Scheduler), time);

    /// <inheritdoc cref="Call{T}"/>
    public Task Call(Func<ISchedulerGrain, Task> call) => StoppingSiloRetry.Call(() => call(Scheduler), time);

    /// <summary>
    /// A question that changes nothing in the scheduler: its answer, or the default with <paramref name="failed"/> told
    /// why when it could not be had. A failure that <paramref name="isOwnLoss"/> (the
    /// coordinator's own activation or silo is going) is thrown: the loop stops on it as on any other call.
    /// </summary>
    public async Task<T?> Advice<T>(Func<ISchedulerGrain, Task<T>> call, Func<Exception, bool> isOwnLoss, Action<Exception> failed)
    {
        ArgumentNullException.ThrowIfNull(isOwnLoss);
        ArgumentNullException.ThrowIfNull(failed);
        try
        {
            return await Call(call);
        }
        catch (Exception e) when (!isOwnLoss(e))
        {
            failed(e);
            return default;
        }
    }
}
