using System.Security.Cryptography.X509Certificates;
using Cluster.Grains.Interfaces.Jobs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Cluster.Grains.Security;

/// <summary>Wires the client gate (<see cref="OperatorSurfaceFilter"/>) into a silo.</summary>
public static class SecuritySiloExtensions
{
    /// <summary>
    /// Clients may call only operator-facing methods; every one of them is allowed (the local user is admin). With
    /// <paramref name="siloProof"/> (the same secret on every silo), a call counts as a silo's only when it carries the
    /// silo's stamp, not because of the sender it names.
    /// </summary>
    public static ISiloBuilder AddOperatorSurface(this ISiloBuilder silo, SiloCallProof? siloProof = null) =>
        Add(silo, siloProof, sp => new OperatorSurfaceFilter(sp.GetRequiredService<ILogger<OperatorSurfaceFilter>>(), null, siloProof, sp.GetRequiredService<IGrainFactory>()));

    /// <summary>
    /// Clients may call only operator-facing methods, each signed with a certificate that
    /// <paramref name="untrustedBecause"/> trusts (null) and that <paramref name="options"/> maps to a principal whose
    /// role and teams allow the call. <paramref name="siloProof"/>: as in the other overload.
    /// </summary>
    public static ISiloBuilder AddOperatorSurface(this ISiloBuilder silo, ClientAuthorizationOptions options, Func<X509Certificate2, string?> untrustedBecause,
        SiloCallProof? siloProof = null) =>
        Add(silo, siloProof, sp => new OperatorSurfaceFilter(sp.GetRequiredService<ILogger<OperatorSurfaceFilter>>(),
            new CallerAuthenticator(options, untrustedBecause, sp.GetService<TimeProvider>() ?? TimeProvider.System), siloProof, sp.GetRequiredService<IGrainFactory>()));

    private static ISiloBuilder Add(ISiloBuilder silo, SiloCallProof? siloProof, Func<IServiceProvider, OperatorSurfaceFilter> create)
    {
        silo.Services.AddSingleton<IIncomingGrainCallFilter>(create);
        silo.AddStreamFilter<TeamStreamFilter>(JobStreams.Provider); // subscriptions of principals limited to teams get their teams' events only
        if (siloProof is not null)
            silo.Services.AddSingleton<IOutgoingGrainCallFilter>(new SiloCallStampFilter(siloProof));
        return silo;
    }
}
