using System.Reflection;
using Cluster.Grains.Interfaces.Security;
using Cluster.Grains.Security;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Core.Internal;

namespace Cluster.Grains.Tests;

/// <summary>
/// Orleans' own runtime interfaces are a closed list for clients: the cluster manifest (the client runtime reads it to
/// connect) and cancelling its own calls stay open; the grain management extension needs admin; every other runtime
/// interface (silo control, membership, …) is refused, whatever the client's role.
/// </summary>
public sealed class RuntimeSurfaceTests
{
    private static readonly GrainId s_client = GrainId.Create(OperatorSurfaceFilter.ClientGrainType, "runtime-surface-client");

    [Theory]
    [InlineData("ISiloControl")]
    [InlineData("IMembershipService")]
    [InlineData("IRemoteGrainDirectory")]
    public async Task A_client_cannot_call_a_silo_runtime_interface(string name)
    {
        var method = RuntimeInterface(name).GetMethods()[0];
        var call = new FakeIncomingCall(method, s_client, GrainId.Create("sys.svc.runtime", "s"));
        var error = await Assert.ThrowsAsync<AccessDeniedException>(() => Filter().Invoke(call));
        Assert.Contains($"{name}.{method.Name} is part of Orleans' runtime and internal to the cluster", error.Message, StringComparison.Ordinal);
        Assert.False(call.Invoked);
    }

    [Fact]
    public async Task The_client_runtime_reads_the_cluster_manifest_and_an_admin_may_deactivate_a_grain()
    {
        var manifest = Type.GetType("Orleans.Runtime.IClusterManifestSystemTarget, Orleans.Core", throwOnError: true)!.GetMethod("GetClusterManifest")!;
        var read = new FakeIncomingCall(manifest, s_client, GrainId.Create("sys.svc.manifest", "s"));
        await Filter().Invoke(read);
        Assert.True(read.Invoked);

        // Without TLS the local user is admin: the management extension (tests and `bench fleet` move grains with it) passes.
        var deactivate = new FakeIncomingCall(typeof(IGrainManagementExtension).GetMethods().First(m => m.Name == nameof(IGrainManagementExtension.DeactivateOnIdle)), s_client,
            GrainId.Create("trainingjob", "runtime-surface"));
        await Filter().Invoke(deactivate);
        Assert.True(deactivate.Invoked);
    }

    [Fact]
    public async Task A_silo_call_to_a_system_target_addressed_at_generation_0_carries_a_stamp_the_target_accepts()
    {
        // Orleans' development membership calls the table on the primary's configured endpoint, generation 0; the
        // system target that receives it has the primary's real generation in its id.
        var proof = SiloCallProof.ForThisProcess(TimeProvider.System);
        var method = RuntimeInterface("IMembershipService").GetMethods()[0];
        var addressed = GrainId.Create("sys.svc.clustering.dev", "127.0.0.1:11111@0");
        var receiver = GrainId.Create("sys.svc.clustering.dev", "127.0.0.1:11111@123456789");
        var call = new FakeIncomingCall(method, GrainId.Create("sys.svc.membership", "127.0.0.1:22222@987654321"), receiver);
        RequestContext.Clear();
        proof.Stamp(SiloCallProof.TargetOf(addressed), call.InterfaceName, call.MethodName);
        await Filter(proof).Invoke(call);
        Assert.True(call.Invoked);
        Assert.Null(call.StampSeenByGrain); // removed before the target runs

        // A grain is named by its whole id: a stamp for one job's grain is not one for another's.
        Assert.Equal("trainingjob/a", SiloCallProof.TargetOf(GrainId.Create("trainingjob", "a")));
        Assert.NotEqual(SiloCallProof.TargetOf(GrainId.Create("trainingjob", "a")), SiloCallProof.TargetOf(GrainId.Create("trainingjob", "b")));

        // Without a stamp the same call is a client's, and refused.
        RequestContext.Clear();
        var unstamped = new FakeIncomingCall(method, GrainId.Create("sys.svc.membership", "127.0.0.1:22222@987654321"), receiver);
        await Assert.ThrowsAsync<AccessDeniedException>(() => Filter(proof).Invoke(unstamped));
        Assert.False(unstamped.Invoked);
    }

    private static OperatorSurfaceFilter Filter(SiloCallProof? proof = null) => new(NullLogger<OperatorSurfaceFilter>.Instance, siloProof: proof);

    /// <summary>An internal Orleans interface of the silo runtime, by name.</summary>
    private static Type RuntimeInterface(string name) =>
        new[] { typeof(ISiloBuilder).Assembly, typeof(IClusterClient).Assembly }.SelectMany(a => a.GetTypes())
            .Single(t => t.IsInterface && t.Name == name && t.Namespace?.StartsWith("Orleans", StringComparison.Ordinal) == true);
}
