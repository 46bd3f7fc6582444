using System.Reflection;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Security;
using Microsoft.Extensions.Logging;

namespace Cluster.Grains.Security;

/// <summary>
/// The silo's gate for client calls. A call whose source is a grain, a system target or the silo's own hosted client
/// passes untouched. A call from a client (the operator console, any Orleans client) reaches only methods marked
/// <see cref="OperatorFacingAttribute"/> of the cluster's interfaces (and the read-only methods of Orleans' management
/// grain); with an <see cref="CallerAuthenticator"/> (TLS on) it must also carry a valid signature of a mapped
/// certificate whose role and teams allow the call. Everything else ends in <see cref="AccessDeniedException"/>.
/// Limit: the source is what the message header says; a client that forges its messages' sending grain (not possible
/// through the Orleans client API) is not caught by the internal/operator split; the signature check still holds.
/// </summary>
internal sealed partial class OperatorSurfaceFilter(ILogger<OperatorSurfaceFilter> logger, CallerAuthenticator? authenticator = null) : IIncomingGrainCallFilter
{
    /// <summary>The grain type of every client's id (Orleans' <c>ClientGrainId</c>, internal to Orleans).</summary>
    internal const string ClientGrainType = "sys.client";

    private static readonly Assembly s_clusterInterfaces = typeof(OperatorFacingAttribute).Assembly;

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        if (!FromClient(context.SourceId))
        {
            await context.Invoke();
            return;
        }
        // Whatever a client put under these keys is its own claim: only this filter sets the principal.
        object? certificate = RequestContext.Get(CallCredentials.CertificateKey), signature = RequestContext.Get(CallCredentials.SignatureKey),
            signedAt = RequestContext.Get(CallCredentials.TimestampKey);
        RequestContext.Remove(CallCredentials.PrincipalKey);
        RequestContext.Remove(CallCredentials.CertificateKey);
        RequestContext.Remove(CallCredentials.SignatureKey);
        RequestContext.Remove(CallCredentials.TimestampKey);

        var method = context.InterfaceMethod;
        string call = $"{method.DeclaringType?.Name}.{method.Name}";
        if (method.DeclaringType?.Assembly != s_clusterInterfaces)
        {
            if (method.DeclaringType == typeof(IManagementGrain) && !method.Name.StartsWith("Get", StringComparison.Ordinal))
                throw Refuse(call, context, $"{call} changes the runtime: only silos may call it.");
            await context.Invoke(); // Orleans' own interfaces (stream subscriptions, cluster manifest, management reads)
            return;
        }
        var required = method.GetCustomAttribute<OperatorFacingAttribute>()
            ?? throw Refuse(call, context, $"{call} is internal to the cluster: only silos may call it. Clients may call the operator-facing methods (those the console uses).");

        var principal = CallerPrincipal.Local;
        if (authenticator is not null)
        {
            var (found, refusal) = authenticator.Authenticate(context.TargetId.ToString(), context.InterfaceName, context.MethodName, certificate, signature, signedAt);
            principal = found ?? throw Refuse(call, context, $"{call} refused: {refusal}");
            if (AccessPolicy.Refusal(principal, required, call, await JobTeams(context, required)) is { } denied)
                throw Refuse(call, context, denied);
        }
        if (required.Role > OperatorRole.Viewer)
            LogOperatorCall(logger, principal.ToString(), call, context.TargetId.ToString());
        RequestContext.Set(CallCredentials.PrincipalKey, principal.Name);
        await context.Invoke();
    }

    /// <summary>A client id other than a silo's own hosted client ("hosted-&lt;silo&gt;"), which runs the silo's services.</summary>
    internal static bool FromClient(GrainId? source) =>
        source is { } id && string.Equals(id.Type.ToString(), ClientGrainType, StringComparison.Ordinal)
        && !id.Key.ToString().StartsWith("hosted-", StringComparison.Ordinal);

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
