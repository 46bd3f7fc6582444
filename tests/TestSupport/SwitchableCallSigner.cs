using System.Security.Cryptography.X509Certificates;
using Cluster.Grains.Interfaces.Security;

namespace Cluster.Grains.Tests;

/// <summary>
/// The test client's outgoing filter: signs each call as the shipped <see cref="CallSigningFilter"/> does with the
/// certificate of <see cref="Current"/> (none: unsigned), or attaches one certificate and signs with another's key
/// (<see cref="Forge"/>).
/// </summary>
internal sealed class SwitchableCallSigner : IOutgoingGrainCallFilter
{
    private static readonly AsyncLocal<Func<IOutgoingGrainCallContext, Task>?> s_current = new();

    /// <summary>The certificate that signs calls made outside <see cref="As"/> and <see cref="Forge"/> (the fixture's own calls).</summary>
    public X509Certificate2? Default { get; set; }

    /// <summary>Calls made inside <paramref name="body"/> are signed with <paramref name="certificate"/> (null: not signed).</summary>
    public static async Task<T> As<T>(X509Certificate2? certificate, Func<Task<T>> body)
    {
        var signer = certificate is null ? null : new CallSigningFilter(certificate, TimeProvider.System);
        s_current.Value = signer is null ? c => c.Invoke() : signer.Invoke;
        try
        {
            return await body();
        }
        finally
        {
            s_current.Value = null;
        }
    }

    public static Task As(X509Certificate2? certificate, Func<Task> body) => As(certificate, async () =>
    {
        await body();
        return true;
    });

    /// <summary>Calls made inside <paramref name="body"/> carry <paramref name="claimed"/> but are signed with <paramref name="key"/>'s private key.</summary>
    public static async Task Forge(X509Certificate2 claimed, X509Certificate2 key, Func<Task> body)
    {
        s_current.Value = context =>
        {
            long at = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            RequestContext.Set(CallCredentials.CertificateKey, claimed.RawData);
            RequestContext.Set(CallCredentials.TimestampKey, at);
            RequestContext.Set(CallCredentials.SignatureKey,
                CallCredentials.Sign(key, CallCredentials.Payload(context.TargetId.ToString(), context.InterfaceName, context.MethodName, at)));
            return context.Invoke();
        };
        try
        {
            await body();
        }
        finally
        {
            s_current.Value = null;
        }
    }

    public async Task Invoke(IOutgoingGrainCallContext context)
    {
        if (s_current.Value is { } current)
            await current(context);
        else if (Default is { } certificate)
            await new CallSigningFilter(certificate, TimeProvider.System).Invoke(context);
        else
            await context.Invoke();
    }
}
