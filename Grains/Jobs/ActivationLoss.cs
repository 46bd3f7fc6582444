using Orleans.Runtime;

namespace Cluster.Grains.Jobs;

/// <summary>
/// Recognises code of an activation that no longer owns anything running on: its driver loop stops without counting a
/// failure or writing the job's state. Two signs, whichever comes first:
/// <list type="bullet">
/// <item>Orleans' error for a deactivated activation — or one whose silo stopped — that still uses a grain API:
/// <c>InvalidOperationException("Attempt to access an invalid activation: …")</c> (<see cref="Is"/>);</item>
/// <item>the activation's services are disposed (<see cref="ServicesDisposed"/>): its silo stopped and its host was
/// disposed while the loop, which outlives the calls that started it, still runs. Code that touches a silo service
/// first (a membership snapshot, a stream, a metric listener) then gets an <see cref="ObjectDisposedException"/>, not
/// the invalid-activation error — and counting those as failures lets a loop that fails again at once spend its whole
/// failure budget in a moment and write "Failed" over a job another silo is about to carry on.</item>
/// <item>its silo is leaving the cluster (<see cref="SiloLeaving"/>: shutting down, stopping or dead in the silo's own
/// view, which changes before the membership table tells any other silo): a failure the loop meets then is the loss of
/// its own silo, whose next activation elsewhere recovers the job. Recovering here instead let a stale loop claim the
/// next epoch first — the new activation then found its claim superseded, and the job went through two recoveries for
/// one loss (a test of the coordinator's loss saw its recovery narrated in an epoch nobody else had started).</item>
/// </list>
/// </summary>
internal static class ActivationLoss
{
    private const string Message = "Attempt to access an invalid activation";

    public static bool Is(Exception exception)
    {
        for (var cause = exception; cause is not null; cause = cause.InnerException)
        {
            if (cause is InvalidOperationException && cause.Message.StartsWith(Message, StringComparison.Ordinal)) return true;
            if (cause is AggregateException all) return all.InnerExceptions.Any(Is);
        }
        return false;
    }

    /// <summary>Any sign: <paramref name="exception"/> is Orleans' invalid-activation error, or <paramref name="services"/> are disposed, or their silo is leaving.</summary>
    public static bool Is(Exception exception, IServiceProvider services) => Is(exception) || ServicesDisposed(services) || SiloLeaving(services);

    /// <summary>
    /// Whether <paramref name="services"/> — the activation's, taken when it activated — are disposed. Asked of this
    /// silo's own container, never inferred from an exception's type: a remote silo's disposed service reaches the caller
    /// as an <see cref="ObjectDisposedException"/> too, and that is an ordinary failure of the callee.
    /// </summary>
    public static bool ServicesDisposed(IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        try
        {
            _ = services.GetService(typeof(ILocalSiloDetails));
            return false;
        }
        catch (ObjectDisposedException)
        {
            return true;
        }
    }

    /// <summary>
    /// Whether the silo of <paramref name="services"/> is leaving the cluster in its own view (<see cref="ISiloStatusOracle.CurrentStatus"/>
    /// shutting down, stopping or dead). A silo sets that status before it writes it to the membership table, so no
    /// other silo can have seen it gone — and reported this silo's nodes lost to the job — first. False once the
    /// services are disposed (<see cref="ServicesDisposed"/> says so) or outside a silo.
    /// </summary>
    public static bool SiloLeaving(IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        try
        {
            return services.GetService(typeof(ISiloStatusOracle)) is ISiloStatusOracle oracle
                && oracle.CurrentStatus is SiloStatus.ShuttingDown or SiloStatus.Stopping or SiloStatus.Dead;
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
    }
}
