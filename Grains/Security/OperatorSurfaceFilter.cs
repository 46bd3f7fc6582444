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
/// only its teams' events (<see cref="TeamScopedReads"/>). Everything else ends in <see cref="AccessDeniedException"/>.
/// </summary>
internal sealed partial class OperatorSurfaceFilter(ILogger<OperatorSurfaceFilter> logger, CallerAuthenticator? authenticator = null,
    SiloCallProof? siloProof = null, IGrainFactory? grains = null) : IIncomingGrainCallFilter
{
    /// <summary>The grain type of every client's id (Orleans' <c>ClientGrainId</c>, internal to Orleans).</summary>
    internal const string ClientGrainType = "sys.client";

    private static readonly Assembly s_clusterInterfaces = typeof(OperatorFacingAttribute).Assembly;

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
            if (AccessPolicy.Refusal(principal, required, call, await JobTeams(context, required)) is { } denied)
                throw Refuse(call, context, denied);
        }
        if (await TeamScopedReads.Before(context, principal, grains, call) is { } foreign)
            throw Refuse(call, context, foreign);
        if (required.Role > OperatorRole.Viewer)
            LogOperatorCall(logger, principal.ToString(), call, context.TargetId.ToString());
        RequestContext.Set(CallCredentials.PrincipalKey, principal.Name);
        RequestContext.Set(CallCredentials.PrincipalRoleKey, (int)principal.Role);
        await context.Invoke();
        TeamScopedReads.After(context, principal);
    }

    /// <summary>
    /// Whether the call comes from a silo: with a <see cref="SiloCallProof"/>, it carries a valid stamp; without one
    /// (the sender is then only what the message says), its source is not a client other than a silo's hosted client.
    /// </summary>
    private bool FromSilo(IIncomingGrainCallContext context, object? proof, object? stampedAt) => siloProof is null
        ? !FromClient(context.SourceId)
        : siloProof.Verify(context.TargetId.ToString(), context.InterfaceName, context.MethodName, proof, stampedAt);

    /// <summary>A client id other than a silo's own hosted client ("hosted-&lt;silo&gt;"), which runs the silo's services.</summary>
    internal static bool FromClient(GrainId? source) =>
        source is { } id && IsClientId(id) && !id.Key.ToString().StartsWith("hosted-", StringComparison.Ordinal);

    /// <summary>Whether <paramref name="id"/> is a client's (or a client-side observer's) id.</summary>
    internal static bool IsClientId(GrainId id) => string.Equals(id.Type.ToString(), ClientGrainType, StringComparison.Ordinal);

    /// <summary>The teams a job-scoped call acts on: the target job's (when it has a spec) and a submitted spec's.</summary>
    private static async Task<IReadOnlyCollection<string>> JobTeams(IIncomingGrainCallContext context, OperatorFacingAttribute required)
    {
        if (required.Scope != OperatorScope.Job || required.Role == OperatorRole.Viewer) return [];
        var teams = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < context.Request.GetArgumentCount(); i++)
            if (context.Request.GetArgument(i) is JobSpec submitted) teams.Add(submitted.Team);
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
