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
    public async Task A_silos_stamped_call_to_a_runtime_system_target_passes_and_the_same_call_unstamped_is_refused()
    {
        // A system target is found by its exact id (the development membership table's own id has generation 0, as the
        // silos address it), so the stamp over the target's id matches on both sides.
        var proof = SiloCallProof.ForThisProcess(TimeProvider.System);
        var method = RuntimeInterface("IMembershipService").GetMethods()[0];
        var target = GrainId.Create("sys.svc.membership", "127.0.0.1:11111@123456789");
        var sender = GrainId.Create("sys.svc.membership", "127.0.0.1:22222@987654321");
        var call = new FakeIncomingCall(method, sender, target);
        RequestContext.Clear();
        proof.Stamp(target.ToString(), call.InterfaceName, call.MethodName);
        await Filter(proof).Invoke(call);
        Assert.True(call.Invoked);
        Assert.Null(call.StampSeenByGrain); // removed before the target runs

        // Without a stamp the same call is a client's, and refused; so is one stamped for another silo's target.
        RequestContext.Clear();
        var unstamped = new FakeIncomingCall(method, sender, target);
        await Assert.ThrowsAsync<AccessDeniedException>(() => Filter(proof).Invoke(unstamped));
        Assert.False(unstamped.Invoked);
        proof.Stamp(GrainId.Create("sys.svc.membership", "127.0.0.1:33333@1").ToString(), call.InterfaceName, call.MethodName);
        var elsewhere = new FakeIncomingCall(method, sender, target);
        await Assert.ThrowsAsync<AccessDeniedException>(() => Filter(proof).Invoke(elsewhere));
        Assert.False(elsewhere.Invoked);
    }

    [Fact]
    public async Task A_message_that_claims_to_be_a_timer_tick_is_a_clients_call()
    {
        // A real tick's request object is Orleans' private tick type, which no message can carry: anything else naming
        // the timer interface — here from a client, and even as the grain itself — is refused.
        var tick = typeof(ISiloBuilder).Assembly.GetType("Orleans.Runtime.IGrainTimerInvoker", throwOnError: true)!.GetMethod("InvokeCallbackAsync")!;
        var job = GrainId.Create("trainingjob", "forged-tick");
        foreach (var source in new GrainId?[] { s_client, job })
        {
            RequestContext.Clear();
            var forged = new FakeIncomingCall(tick, source, job, new ForgedInvokable(tick));
            var error = await Assert.ThrowsAsync<AccessDeniedException>(() => Filter(SiloCallProof.ForThisProcess(TimeProvider.System)).Invoke(forged));
            Assert.Contains("IGrainTimerInvoker.InvokeCallbackAsync is part of Orleans' runtime and internal to the cluster", error.Message, StringComparison.Ordinal);
            Assert.False(forged.Invoked);
        }
    }

    /// <summary>What a deserialized message's request would be: any invokable other than Orleans' own tick.</summary>
    private sealed class ForgedInvokable(MethodInfo method) : Orleans.Serialization.Invocation.IInvokable
    {
        public object? GetTarget() => null;

        public void SetTarget(Orleans.Serialization.Invocation.ITargetHolder holder)
        {
        }

        public ValueTask<Orleans.Serialization.Invocation.Response> Invoke() => throw new InvalidOperationException("A forged tick must not run.");

        public int GetArgumentCount() => 0;

        public object? GetArgument(int index) => throw new ArgumentOutOfRangeException(nameof(index));

        public void SetArgument(int index, object value) => throw new ArgumentOutOfRangeException(nameof(index));

        public string GetMethodName() => method.Name;

        public string GetInterfaceName() => method.DeclaringType!.Name;

        public string GetActivityName() => $"{GetInterfaceName()}/{GetMethodName()}";

        public MethodInfo GetMethod() => method;

        public Type GetInterfaceType() => method.DeclaringType!;

        public void Dispose()
        {
        }
    }

    private static OperatorSurfaceFilter Filter(SiloCallProof? proof = null) => new(NullLogger<OperatorSurfaceFilter>.Instance, siloProof: proof);

    /// <summary>An internal Orleans interface of the silo runtime, by name.</summary>
    private static Type RuntimeInterface(string name) =>
        new[] { typeof(ISiloBuilder).Assembly, typeof(IClusterClient).Assembly }.SelectMany(a => a.GetTypes())
            .Single(t => t.IsInterface && t.Name == name && t.Namespace?.StartsWith("Orleans", StringComparison.Ordinal) == true);
}
