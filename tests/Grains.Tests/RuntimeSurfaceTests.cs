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
        var deactivate = new FakeIncomingCall(typeof(IGrainManagementExtension).GetMethod(nameof(IGrainManagementExtension.DeactivateOnIdle))!, s_client,
            GrainId.Create("trainingjob", "runtime-surface"));
        await Filter().Invoke(deactivate);
        Assert.True(deactivate.Invoked);
    }

    private static OperatorSurfaceFilter Filter() => new(NullLogger<OperatorSurfaceFilter>.Instance);

    /// <summary>An internal Orleans interface of the silo runtime, by name.</summary>
    private static Type RuntimeInterface(string name) =>
        new[] { typeof(ISiloBuilder).Assembly, typeof(IClusterClient).Assembly }.SelectMany(a => a.GetTypes())
            .Single(t => t.IsInterface && t.Name == name && t.Namespace?.StartsWith("Orleans", StringComparison.Ordinal) == true);
}
