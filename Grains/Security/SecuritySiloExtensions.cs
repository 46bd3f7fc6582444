using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Cluster.Grains.Security;

/// <summary>Wires the client gate (<see cref="OperatorSurfaceFilter"/>) into a silo.</summary>
public static class SecuritySiloExtensions
{
    /// <summary>Clients may call only operator-facing methods; every one of them is allowed (the local user is admin).</summary>
    public static ISiloBuilder AddOperatorSurface(this ISiloBuilder silo) =>
        Add(silo, sp => new OperatorSurfaceFilter(sp.GetRequiredService<ILogger<OperatorSurfaceFilter>>()));

    /// <summary>
    /// Clients may call only operator-facing methods, each signed with a certificate that
    /// <paramref name="untrustedBecause"/> trusts (null) and that <paramref name="options"/> maps to a principal whose
    /// role and teams allow the call.
    /// </summary>
    public static ISiloBuilder AddOperatorSurface(this ISiloBuilder silo, ClientAuthorizationOptions options, Func<X509Certificate2, string?> untrustedBecause) =>
        Add(silo, sp => new OperatorSurfaceFilter(sp.GetRequiredService<ILogger<OperatorSurfaceFilter>>(),
            new CallerAuthenticator(options, untrustedBecause, sp.GetService<TimeProvider>() ?? TimeProvider.System)));

    private static ISiloBuilder Add(ISiloBuilder silo, Func<IServiceProvider, OperatorSurfaceFilter> create)
    {
        silo.Services.AddSingleton<IIncomingGrainCallFilter>(create);
        return silo;
    }
}
