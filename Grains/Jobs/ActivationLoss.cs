namespace Cluster.Grains.Jobs;

/// <summary>
/// Recognises the failure Orleans raises when a deactivated activation — or one whose silo stopped — still uses a
/// grain API: <c>InvalidOperationException("Attempt to access an invalid activation: …")</c>. Such an activation no
/// longer owns anything: its driver loop stops without counting a failure or writing the job's state.
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
}
