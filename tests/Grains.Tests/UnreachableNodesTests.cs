using System.Net;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Scheduling;
using Orleans.Runtime;

namespace Cluster.Grains.Tests;

/// <summary>Which of a job's nodes a failure shows unreachable: those on the silo Orleans could not deliver to.</summary>
public sealed class UnreachableNodesTests
{
    private static readonly SiloAddress Self = SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11111), 123);
    private static readonly SiloAddress Dead = SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11113), 456);
    private static readonly SiloAddress Other = SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11113), 4567);

    private static readonly ClusterMember[] Members =
        [new(Self, SiloStatus.Active, "silo-0"), new(Dead, SiloStatus.Active, "silo-2"), new(Other, SiloStatus.Active, "silo-3")];

    private static readonly StagePlacement[] Placement =
        [new(0, "silo-0/cpu0", "silo-0", 0, 1, "u0", 0), new(1, "silo-2/cpu0", "silo-2", 1, 1, "u1", 0), new(2, "silo-3/cpu0", "silo-3", 2, 1, "u2", 0)];

    [Fact]
    public void The_nodes_on_the_target_silo_of_an_undeliverable_message_are_unreachable()
    {
        var failure = new AggregateException(new InvalidOperationException("step failed",
            new SiloUnavailableException($"The target silo became unavailable for message: Request {Self}job@1->{Dead}stage@2 #10. Target History is: <{Dead}:stage>.")));

        Assert.Equal(["silo-2/cpu0"], UnreachableNodes.In(failure, Placement, Members, Self));
    }

    [Fact]
    public void The_sender_of_an_undeliverable_message_is_not_reported_even_when_it_is_another_silo_of_the_job()
    {
        // A stage on silo-3 handing its snapshot to a holder on dead silo-2: only silo-2's node is unreachable.
        var failure = new SiloUnavailableException($"The target silo became unavailable for message: Request [{Other} stage/s2]->[{Dead} shard/s2] #10. Target History is: <{Dead}:shard>.");

        Assert.Equal(["silo-2/cpu0"], UnreachableNodes.In(failure, Placement, Members, Self));
    }

    [Fact]
    public void Other_failures_name_no_node()
    {
        var failure = new TimeoutException($"Response did not arrive on time for a message to {Dead}");

        Assert.Empty(UnreachableNodes.In(failure, Placement, Members, Self));
    }

    [Fact]
    public void A_delivery_failure_is_recognised_however_it_is_wrapped_and_nothing_else_is()
    {
        var rejected = new SiloUnavailableException($"Request [{Other} stage/s2]->[{Dead} shard/s2] #10");

        Assert.True(UnreachableNodes.IsDeliveryFailure(rejected));
        Assert.True(UnreachableNodes.IsDeliveryFailure(new OrleansException("call failed", rejected)));
        Assert.True(UnreachableNodes.IsDeliveryFailure(new AggregateException(new TimeoutException("slow"), new InvalidOperationException("step", rejected))));
        Assert.False(UnreachableNodes.IsDeliveryFailure(new TimeoutException($"Response did not arrive on time for a message to {Dead}")));
        Assert.False(UnreachableNodes.IsDeliveryFailure(new OrleansException("grain threw")));
    }
}
