using System.Net;
using Orleans.Runtime;

namespace Cluster.Grains.Tests;

/// <summary>Who "this silo" is for parts built outside a silo in unit tests.</summary>
internal sealed class TestSiloDetails(string name, SiloAddress? siloAddress = null) : ILocalSiloDetails
{
    public string Name { get; } = name;

    public string ClusterId => "test";

    public string DnsHostName => "localhost";

    public SiloAddress SiloAddress { get; } = siloAddress ?? SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11111), 1);

    public SiloAddress GatewayAddress { get; } = SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 30000), 1);
}
