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

    /// <summary>Either sign: <paramref name="exception"/> is Orleans' invalid-activation error, or <paramref name="services"/> are disposed.</summary>
    public static bool Is(Exception exception, IServiceProvider services) => Is(exception) || ServicesDisposed(services);

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
}
