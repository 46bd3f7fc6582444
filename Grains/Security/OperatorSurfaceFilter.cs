using System.Reflection;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Security;
using Microsoft.Extensions.Logging;

namespace Cluster.Grains.Security;

/// <summary>
/// The silo's gate for client calls. A call from a silo — a grain, a system target or the silo's own hosted client —
/// passes untouched; with a <see cref="SiloCallProof"/> (every silo holds the cluster's secret) only a call that carries
/// a valid silo stamp counts as one, so a client that forges its messages' sender (Orleans' gateway does not check it)
/// is still a client. A call from a client (the operator console, any Orleans client) reaches only methods marked
/// <see cref="OperatorFacingAttribute"/> of the cluster's interfaces and the parts of Orleans' own interfaces that
/// <see cref="OrleansClientSurface"/> opens; with an <see cref="CallerAuthenticator"/> (TLS on) it must also carry a
/// valid signature of a mapped certificate whose role and teams allow the call, and a principal limited to teams reads
/// only its teams' jobs and events (<see cref="TeamScopedReads"/>). Everything else ends in <see cref="AccessDeniedException"/>.
/// </summary>
internal sealed partial class OperatorSurfaceFilter(ILogger<OperatorSurfaceFilter> logger, CallerAuthenticator? authenticator = null,
    SiloCallProof? siloProof = null, IGrainFactory? grains = null) : IIncomingGrainCallFilter
{
    /// <summary>The grain type of every client's id (Orleans' <c>ClientGrainId</c>, internal to Orleans).</summary>
    internal const string ClientGrainType = "sys.client";

    private static readonly Assembly s_clusterInterfaces = typeof(OperatorFacingAttribute).Assembly;

    /// <summary>
    /// Orleans' own timer tick type (<c>GrainTimer.TimerTickInvoker</c>, private to Orleans.Runtime): null if a later
    /// Orleans renames it, and then every timer tick is refused — loudly, in every test that has a timer.
    /// </summary>
    private static readonly Type? s_timerTick = Type.GetType("Orleans.Runtime.GrainTimer+TimerTickInvoker, Orleans.Runtime");

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        // A stamp proves this one call; the grain's own calls get fresh ones, and nothing it sends on (a stream batch
        // carries its producer's request context) may hold one.
        object? proof = RequestContext.Get(SiloCallProof.ProofKey), stampedAt = RequestContext.Get(SiloCallProof.TimeKey);
        SiloCallProof.Remove();
        if (FromSilo(context, proof, stampedAt))
        {
            await context.Invoke();
            return;
        }
        // Whatever a client put under these keys is its own claim: only this filter sets the principal.
        object? certificate = RequestContext.Get(CallCredentials.CertificateKey), signature = RequestContext.Get(CallCredentials.SignatureKey),
            signedAt = RequestContext.Get(CallCredentials.TimestampKey);
        RequestContext.Remove(CallCredentials.PrincipalKey);
        RequestContext.Remove(CallCredentials.PrincipalRoleKey);
        RequestContext.Remove(CallCredentials.CertificateKey);
        RequestContext.Remove(CallCredentials.SignatureKey);
        RequestContext.Remove(CallCredentials.TimestampKey);

        var method = context.InterfaceMethod;
        if (OrleansClientSurface.IsDeliveryToHostedClient(method, IsClientId(context.TargetId)))
        {
            await context.Invoke(); // a stream item on its way to a subscriber in this silo's process, not a client's call
            return;
        }
        string call = $"{method.DeclaringType?.Name}.{method.Name}";
        OperatorFacingAttribute required;
        if (method.DeclaringType?.Assembly != s_clusterInterfaces)
        {
            var (needs, refusal) = OrleansClientSurface.Rule(method, call);
            if (refusal is not null) throw Refuse(call, context, refusal);
            if (needs is null)
            {
                await context.Invoke(); // the client runtime's own plumbing (cluster manifest, type lookups)
                return;
            }
            required = needs;
        }
        else
        {
            required = method.GetCustomAttribute<OperatorFacingAttribute>()
                ?? throw Refuse(call, context, $"{call} is internal to the cluster: only silos may call it. Clients may call the operator-facing methods (those the console uses).");
        }

        var principal = CallerPrincipal.Local;
        if (authenticator is not null)
        {
            var (found, refusal) = authenticator.Authenticate(context.TargetId.ToString(), context.InterfaceName, context.MethodName, certificate, signature, signedAt);
            principal = found ?? throw Refuse(call, context, $"{call} refused: {refusal}");
            if (AccessPolicy.Refusal(principal, required, call, await JobTeams(context, required, principal)) is { } denied)
                throw Refuse(call, context, denied);
        }
        if (await TeamScopedReads.Before(context, principal, grains, call) is { } foreign)
            throw Refuse(call, context, foreign);
        if (required.Role > OperatorRole.Viewer)
            LogOperatorCall(logger, principal.ToString(), call, context.TargetId.ToString());
        RequestContext.Set(CallCredentials.PrincipalKey, principal.Name);
        RequestContext.Set(CallCredentials.PrincipalRoleKey, (int)principal.Role);
        await context.Invoke();
        await TeamScopedReads.After(context, principal, grains);
    }

    /// <summary>
    /// Whether the call comes from a silo: with a <see cref="SiloCallProof"/>, it carries a valid stamp; without one
    /// (the sender is then only what the message says), its source is not a client other than a silo's hosted client.
    /// </summary>
    private bool FromSilo(IIncomingGrainCallContext context, object? proof, object? stampedAt) => IsTimerTick(context) || (siloProof is null
        ? !FromClient(context.SourceId)
        : siloProof.Verify(context.TargetId.ToString(), context.InterfaceName, context.MethodName, proof, stampedAt));

    /// <summary>
    /// Whether the call is a grain timer's tick: Orleans 10 runs each tick through the incoming filters as a call of
    /// <c>IGrainTimerInvoker.InvokeCallbackAsync</c> from the grain to itself, built on the silo (no outgoing filter, so
    /// no stamp). The request object is then Orleans' private tick type, which has no serializer: no message from the
    /// network can carry one (a message naming that interface carries the generated invokable instead, and is a client's).
    /// </summary>
    private static bool IsTimerTick(IIncomingGrainCallContext context) =>
        s_timerTick is not null && context.InterfaceMethod.DeclaringType?.FullName == "Orleans.Runtime.IGrainTimerInvoker"
        && context.Request.GetType() == s_timerTick;

    /// <summary>A client id other than a silo's own hosted client ("hosted-&lt;silo&gt;"), which runs the silo's services.</summary>
    internal static bool FromClient(GrainId? source) =>
        source is { } id && IsClientId(id) && !id.Key.ToString().StartsWith("hosted-", StringComparison.Ordinal);

    /// <summary>Whether <paramref name="id"/> is a client's (or a client-side observer's) id.</summary>
    internal static bool IsClientId(GrainId id) => string.Equals(id.Type.ToString(), ClientGrainType, StringComparison.Ordinal);

    /// <summary>
    /// The teams a job-scoped call acts on or reads, for a principal limited to teams (else none are looked up): the
    /// target job's (when it has a spec), a submitted spec's, and the job a <c>jobId</c> argument names when the target
    /// knows its team (the scheduler). A job that does not exist has no team: reading it reads nothing.
    /// </summary>
    private static async Task<IReadOnlyCollection<string>> JobTeams(IIncomingGrainCallContext context, OperatorFacingAttribute required, CallerPrincipal principal)
    {
        if (required.Scope != OperatorScope.Job || TeamScopedReads.Limit(principal).Count == 0) return [];
        var teams = new HashSet<string>(StringComparer.Ordinal);
        var parameters = context.InterfaceMethod.GetParameters();
        for (int i = 0; i < context.Request.GetArgumentCount(); i++)
        {
            object? argument = context.Request.GetArgument(i);
            if (argument is JobSpec submitted) teams.Add(submitted.Team);
            else if (argument is string jobId && i < parameters.Length && parameters[i].Name == "jobId"
                     && context.Grain is Hosting.IKnowJobTeams known && known.TeamOf(jobId) is { } team)
                teams.Add(team);
        }
        // The job grain is reentrant and this runs inside its activation: a direct read of its spec, no message.
        if (context.Grain is ITrainingJobGrain job && await job.GetSpec() is { } existing) teams.Add(existing.Team);
        return teams;
    }

    private AccessDeniedException Refuse(string call, IIncomingGrainCallContext context, string message)
    {
        LogRefused(logger, call, context.TargetId.ToString(), context.SourceId?.ToString() ?? "?", message);
        return new AccessDeniedException(message);
    }

    [LoggerMessage(1, LogLevel.Warning, "Refused client call {Call} on {Target} from {Client}: {Reason}")]
    private static partial void LogRefused(ILogger logger, string call, string target, string client, string reason);

    [LoggerMessage(2, LogLevel.Information, "{Principal} called {Call} on {Target}")]
    private static partial void LogOperatorCall(ILogger logger, string principal, string call, string target);
}
