using System.Security.Cryptography.X509Certificates;
using Cluster.Grains.Security;
using Microsoft.Extensions.DependencyInjection;

namespace Cluster.Grains.Tests;

/// <summary>
/// One silo whose client gate authorises every call by its signed certificate (as with TLS on), with a certificate map
/// of a viewer, a viewer of team "a", an operator of team "a", a fleet-wide operator and an admin; the test client signs as the admin unless a
/// test says otherwise (<see cref="SwitchableCallSigner"/>).
/// </summary>
public sealed class AuthorizationClusterFixture : ClusterFixture, IAsyncLifetime
{
    private readonly TestPki _pki = new();
    private readonly SwitchableCallSigner _signer = new();

    public AuthorizationClusterFixture()
        : base(1)
    {
        Viewer = _pki.Issue("viewer");
        TeamViewer = _pki.Issue("vera");
        TeamOperator = _pki.Issue("alice");
        FleetOperator = _pki.Issue("olga");
        Admin = _pki.Issue("root");
        Unmapped = _pki.Issue("nobody");
        Stranger = _pki.Issue("root-lookalike", byAuthority: false);
        _signer.Default = Admin;
        Options = new ClientAuthorizationOptions
        {
            Principals =
            [
                new PrincipalEntry { Subject = "CN=viewer", Role = "viewer" },
                new PrincipalEntry { Subject = "CN=vera", Role = "viewer", Teams = ["a"] },
                new PrincipalEntry { Subject = "CN=alice", Role = "operator", Teams = ["a"] },
                new PrincipalEntry { Thumbprint = FleetOperator.Thumbprint, Name = "olga", Role = "operator" },
                new PrincipalEntry { Subject = "CN=root", Role = "admin" },
                new PrincipalEntry { Subject = "CN=root-lookalike", Role = "admin" }, // mapped, but its issuer is not trusted
            ],
        };
    }

    internal ClientAuthorizationOptions Options { get; }

    internal X509Certificate2 Viewer { get; }

    internal X509Certificate2 TeamViewer { get; }

    internal X509Certificate2 TeamOperator { get; }

    internal X509Certificate2 FleetOperator { get; }

    internal X509Certificate2 Admin { get; }

    internal X509Certificate2 Unmapped { get; }

    internal X509Certificate2 Stranger { get; }

    /// <summary>The silos' stamp (Authorization:SiloSecret): a call counts as a silo's only with it.</summary>
    internal SiloCallProof SiloProof { get; } = new("authorization-fixture-silo-secret-0123456789", TimeSpan.FromMinutes(5), TimeProvider.System);

    protected override ISiloBuilder ConfigureSilo(ISiloBuilder silo) => silo.AddOperatorSurface(Options, _pki.Untrusted, SiloProof);

    protected override IClientBuilder ConfigureClient(IClientBuilder client)
    {
        client.Services.AddSingleton<IOutgoingGrainCallFilter>(_signer);
        return client;
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        await DisposeAsync();
        _pki.Dispose();
    }
}
