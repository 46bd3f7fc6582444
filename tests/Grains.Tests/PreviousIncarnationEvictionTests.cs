using System.Collections.Immutable;
using System.Net;
using System.Net.Sockets;
using Cluster.Grains.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Runtime;

namespace Cluster.Grains.Tests;

/// <summary>
/// A silo restarted under its name declares its previous incarnation dead when that one's endpoint no longer answers —
/// and never one that answers, one of another name, one already dead, or a later one.
/// </summary>
public sealed class PreviousIncarnationEvictionTests
{
    private static SiloAddress At(int port, int generation) => SiloAddress.New(new IPEndPoint(IPAddress.Loopback, port), generation);

    private static readonly SiloAddress Self = At(20_001, 300);

    private static (PreviousIncarnationEviction Eviction, Membership Membership) Build(ISet<SiloAddress> answering, params ClusterMember[] others)
    {
        var members = others.Append(new ClusterMember(Self, SiloStatus.Joining, "proc-1")).ToImmutableDictionary(m => m.SiloAddress);
        var membership = new Membership(new ClusterMembershipSnapshot(members, new MembershipVersion(7)));
        var eviction = new PreviousIncarnationEviction(new TestSiloDetails("proc-1", Self), membership, new Probe(answering),
            Options.Create(new ClusterMembershipOptions()), NullLogger<PreviousIncarnationEviction>.Instance);
        return (eviction, membership);
    }

    [Fact]
    public async Task Earlier_incarnations_of_its_name_that_no_longer_answer_are_declared_dead_oldest_first()
    {
        var (eviction, membership) = Build(new HashSet<SiloAddress>(),
            new ClusterMember(At(20_002, 200), SiloStatus.Active, "proc-1"),
            new ClusterMember(At(20_003, 100), SiloStatus.ShuttingDown, "proc-1"));

        await eviction.Start(CancellationToken.None);

        Assert.Equal(1, membership.Refreshes);
        Assert.Equal([At(20_003, 100), At(20_002, 200)], membership.Killed);
    }

    [Fact]
    public async Task Another_name_a_dead_entry_a_later_incarnation_one_on_its_own_endpoint_and_one_that_answers_are_left_alone()
    {
        var answering = At(20_005, 250);
        var (eviction, membership) = Build(new HashSet<SiloAddress> { answering },
            new ClusterMember(At(20_002, 200), SiloStatus.Active, "proc-2"),
            new ClusterMember(At(20_003, 100), SiloStatus.Dead, "proc-1"),
            new ClusterMember(At(20_004, 400), SiloStatus.Joining, "proc-1"),
            new ClusterMember(At(Self.Endpoint.Port, 150), SiloStatus.Active, "proc-1"), // Orleans' own: same endpoint, older generation
            new ClusterMember(answering, SiloStatus.Active, "proc-1"));

        await eviction.Start(CancellationToken.None);

        Assert.Empty(membership.Killed);
    }

    [Fact]
    public async Task A_membership_that_cannot_be_read_does_not_fail_the_start()
    {
        var (eviction, membership) = Build(new HashSet<SiloAddress>(), new ClusterMember(At(20_002, 200), SiloStatus.Active, "proc-1"));
        membership.RefreshFails = true;

        await eviction.Start(CancellationToken.None);

        Assert.Empty(membership.Killed);
    }

    [Fact]
    public async Task The_tcp_probe_answers_for_a_listening_endpoint_and_not_for_a_closed_one()
    {
        var probe = new TcpSiloPortProbe(TimeProvider.System);
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var endpoint = (IPEndPoint)listener.LocalEndpoint;
        try
        {
            Assert.True(await probe.Answers(endpoint, TimeSpan.FromSeconds(30), CancellationToken.None));
        }
        finally
        {
            listener.Stop();
        }
        Assert.False(await probe.Answers(endpoint, TimeSpan.FromSeconds(30), CancellationToken.None));
    }

    private sealed class Probe(ISet<SiloAddress> answering) : ISiloPortProbe
    {
        public Task<bool> Answers(IPEndPoint endpoint, TimeSpan timeout, CancellationToken cancellationToken) =>
            Task.FromResult(answering.Any(a => a.Endpoint.Equals(endpoint)));
    }

    private sealed class Membership(ClusterMembershipSnapshot snapshot) : IClusterMembershipService
    {
        public List<SiloAddress> Killed { get; } = [];

        public int Refreshes { get; private set; }

        public bool RefreshFails { get; set; }

        public ClusterMembershipSnapshot CurrentSnapshot => snapshot;

        public IAsyncEnumerable<ClusterMembershipSnapshot> MembershipUpdates => throw new NotSupportedException();

        public ValueTask Refresh(MembershipVersion minimumVersion = default, CancellationToken cancellationToken = default)
        {
            Refreshes++;
            return RefreshFails ? ValueTask.FromException(new TimeoutException("membership table unreachable")) : ValueTask.CompletedTask;
        }

        public Task<bool> TryKill(SiloAddress siloAddress)
        {
            Killed.Add(siloAddress);
            return Task.FromResult(true);
        }
    }
}
