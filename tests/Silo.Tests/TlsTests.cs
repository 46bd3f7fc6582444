using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Scheduling;
using Cluster.Grains.Interfaces.Security;
using Cluster.Tls;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;

namespace Cluster.Silo.Tests;

/// <summary>
/// Mutual TLS from configuration, with real silo processes: silos with certificates from the cluster's CA (one PFX,
/// one PEM) form a cluster and serve a client holding such a certificate; a plain-text client, a client whose
/// certificate the CA never issued, and a plain-text silo are all refused. Each client call is authorised by the
/// certificate map: a viewer reads, an admin sets quotas, an unmapped certificate and internal methods are refused.
/// </summary>
public sealed class TlsTests
{
    /// <summary>How long a refused peer is given to get through anyway (it never can: no timing is measured).</summary>
    private static readonly TimeSpan s_refusalDeadline = TimeSpan.FromSeconds(20);

    private const string SiloSecret = "tls-test-silo-secret-0123456789abcdefghij";

    [Fact]
    public async Task Silos_and_clients_with_trusted_certificates_connect_and_everyone_else_is_refused()
    {
        await using var cluster = new ProcessCluster();
        using var certificates = new TestCertificates(Path.Combine(cluster.WorkRoot, "pki"));
        int[] ports = SiloProcess.FreePorts(5);
        string[] common = ["--TrainingCluster:DeviceSlots=1", "--TrainingCluster:ThreadsPerSlot=1", $"--TrainingCluster:DataRoot={Path.Combine(cluster.WorkRoot, "data")}",
                           "--Tls:Enabled=true", $"--Tls:CertificateAuthorityPath={certificates.AuthorityPath}",
                           // Who may do what (revocation is checked by default: these certificates name no CRL, so their status is unknown and accepted).
                           $"--Authorization:SiloSecret={SiloSecret}", // silo-to-silo calls (node registration) carry its stamp across the processes
                           "--Authorization:Principals:0:Subject=CN=operator", "--Authorization:Principals:0:Role=viewer",
                           "--Authorization:Principals:1:Subject=CN=root", "--Authorization:Principals:1:Role=admin",
                           "--Logging:LogLevel:Default=Warning", "--Logging:LogLevel:Cluster.Silo=Information"];
        var first = cluster.StartSilo("silo-a",
            ["--Orleans:SiloName=silo-a", $"--Orleans:SiloPort={ports[0]}", $"--Orleans:GatewayPort={ports[1]}",
             $"--Tls:CertificatePath={certificates.IssuePfx("silo-a")}", .. common],
            new Dictionary<string, string> { ["CLUSTER_Tls__CertificatePassword"] = TestCertificates.Password });
        var (pem, key) = certificates.IssuePem("silo-b");
        var second = cluster.StartSilo("silo-b",
            ["--Orleans:SiloName=silo-b", $"--Orleans:SiloPort={ports[2]}", $"--Orleans:GatewayPort={ports[3]}", $"--Orleans:PrimarySiloPort={ports[0]}",
             $"--Tls:CertificatePath={pem}", $"--Tls:KeyPath={key}", .. common]);

        // A trusted client reaches both silos' nodes: silo-to-silo and client-to-silo TLS work.
        var trusted = new ClusterTlsOptions { Enabled = true, CertificatePath = certificates.IssuePfx("operator"), CertificatePassword = TestCertificates.Password, CertificateAuthorityPath = certificates.AuthorityPath };
        var client = await cluster.ConnectAsync(c => c.UseLocalhostClustering(ports[1]).UseClusterTls(trusted), TimeSpan.FromMinutes(2));
        await cluster.WaitForNodesAsync(client, 2);

        // The trusted client's certificate maps to a viewer: it reads but may not act, and internal methods stay closed.
        var viewerRefused = await Assert.ThrowsAsync<AccessDeniedException>(() => client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default).SetQuota("a", 1));
        Assert.Contains("operator (viewer) may not call ISchedulerGrain.SetQuota: it needs the admin role", viewerRefused.Message, StringComparison.Ordinal);
        var internalRefused = await Assert.ThrowsAsync<AccessDeniedException>(() => client.GetGrain<ICheckpointShardGrain>("tls-job/s0").Accept(1, 1, 0, [], durable: false));
        Assert.Contains("ICheckpointShardGrain.Accept is internal to the cluster", internalRefused.Message, StringComparison.Ordinal);

        // An admin certificate may; a certificate from the CA that the map does not name may do nothing.
        var admin = new ClusterTlsOptions { Enabled = true, CertificatePath = certificates.IssuePfx("root"), CertificatePassword = TestCertificates.Password, CertificateAuthorityPath = certificates.AuthorityPath };
        var adminClient = await cluster.ConnectAsync(c => c.UseLocalhostClustering(ports[3]).UseClusterTls(admin), TimeSpan.FromMinutes(2));
        Assert.Equal(1, (await adminClient.GetGrain<ISchedulerGrain>(SchedulerKeys.Default).SetQuota("a", 1)).MaxNodes);
        var nobody = new ClusterTlsOptions { Enabled = true, CertificatePath = certificates.IssuePfx("nobody"), CertificatePassword = TestCertificates.Password, CertificateAuthorityPath = certificates.AuthorityPath };
        var nobodyClient = await cluster.ConnectAsync(c => c.UseLocalhostClustering(ports[1]).UseClusterTls(nobody), TimeSpan.FromMinutes(2));
        var unmapped = await Assert.ThrowsAsync<AccessDeniedException>(() => nobodyClient.GetGrain<ISchedulerGrain>(SchedulerKeys.Default).GetNodes());
        Assert.Contains("CN=nobody", unmapped.Message, StringComparison.Ordinal);
        Assert.Contains("maps to no principal", unmapped.Message, StringComparison.Ordinal);
        await cluster.WaitAsync(() => Task.FromResult(new[] { first, second }.Any(s => s.Output.Contains("Refused client call ISchedulerGrain.GetNodes", StringComparison.Ordinal))),
            TimeSpan.FromSeconds(30), "the scheduler's silo to log the refusal");

        // A plain-text client gets nowhere.
        await AssertRefusedAsync(c => c.UseLocalhostClustering(ports[1]));

        // A client with a certificate the CA never issued is refused by the silo's validation, which logs why.
        var stranger = new ClusterTlsOptions { Enabled = true, CertificatePath = certificates.SelfSignedPfx("stranger"), CertificatePassword = TestCertificates.Password, CertificateAuthorityPath = certificates.AuthorityPath };
        await AssertRefusedAsync(c => c.UseLocalhostClustering(ports[1]).UseClusterTls(stranger));
        await cluster.WaitAsync(() => Task.FromResult(first.Output.Contains("Refused a TLS peer with certificate CN=stranger", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(30), "silo-a to log the refused certificate");

        // A plain-text silo cannot join: it never reaches the primary's membership.
        await AssertSiloCannotJoinAsync(primaryPort: ports[0], siloPort: ports[4]);
        Assert.Equal(["silo-a", "silo-b"], (await client.GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: true)).Select(h => h.SiloName).Order());
        Assert.DoesNotContain(TestCertificates.Password, first.Output);
        Assert.DoesNotContain(SiloSecret, first.Output);
    }

    private static async Task AssertRefusedAsync(Action<IClientBuilder> configure)
    {
        using var host = new HostBuilder().UseOrleansClient(configure).Build();
        using var deadline = new CancellationTokenSource(s_refusalDeadline);
        var error = await Record.ExceptionAsync(async () =>
        {
            await host.StartAsync(deadline.Token);
            // Should the connection open at all, no call may get through it.
            await host.Services.GetRequiredService<IClusterClient>().GetGrain<ISchedulerGrain>(SchedulerKeys.Default).GetNodes().WaitAsync(deadline.Token);
        });
        // Refused: the connection fails (TLS handshake or certificate check), or it never opens; either way no call got through.
        Assert.NotNull(error);
    }

    private static async Task AssertSiloCannotJoinAsync(int primaryPort, int siloPort)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(siloPort, 0, new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, primaryPort));
            silo.Configure<SiloOptions>(o => o.SiloName = "plain-text");
            silo.Configure<ClusterMembershipOptions>(o => o.MaxJoinAttemptTime = TimeSpan.FromSeconds(10));
        });
        using var host = builder.Build();
        using var deadline = new CancellationTokenSource(s_refusalDeadline);
        var error = await Record.ExceptionAsync(() => host.StartAsync(deadline.Token));
        Assert.NotNull(error); // could not join (or still trying at the deadline)
        try
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await host.StopAsync(stop.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or OrleansException or InvalidOperationException)
        {
            // it never started properly
        }
    }
}
