using System.Net;
using Azure.Data.Tables;
using Azure.Identity;
using Cluster.Silo.Configuration;
using Orleans.Configuration;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;

namespace Cluster.Silo.Hosting;

/// <summary>Membership (how silos find each other) and endpoints, from <see cref="SiloHostOptions"/>.</summary>
internal static class MembershipHostingExtensions
{
    public static ISiloBuilder UseConfiguredMembership(this ISiloBuilder silo, SiloHostOptions host)
    {
        var membership = host.Membership;
        switch (membership.NormalizedProvider)
        {
            case MembershipOptions.Localhost:
                // Several silo processes on one machine: every one but the first names the first one's silo port.
                silo.UseLocalhostClustering(host.SiloPort, host.GatewayPort,
                    new IPEndPoint(IPAddress.Loopback, host.PrimarySiloPort ?? host.SiloPort), host.ServiceId, host.ClusterId);
                return silo;
            case MembershipOptions.AzureTable:
                silo.UseAzureStorageClustering(o =>
                {
                    o.TableServiceClient = CreateTableClient(membership);
                    o.TableName = membership.TableName;
                });
                break;
            case MembershipOptions.Redis:
                silo.UseRedisClustering(o => o.ConfigurationOptions = ConfigurationOptions.Parse(membership.ConnectionString!));
                break;
            default:
                throw new InvalidOperationException($"Unvalidated membership provider '{membership.Provider}'.");
        }
        silo.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = host.ClusterId;
            o.ServiceId = host.ServiceId;
        });
        return string.IsNullOrWhiteSpace(host.AdvertisedIPAddress)
            ? silo.ConfigureEndpoints(host.SiloPort, host.GatewayPort, listenOnAnyHostAddress: host.ListenOnAnyHostAddress)
            : silo.ConfigureEndpoints(IPAddress.Parse(host.AdvertisedIPAddress), host.SiloPort, host.GatewayPort, host.ListenOnAnyHostAddress);
    }

    public static TableServiceClient CreateTableClient(MembershipOptions membership) =>
        !string.IsNullOrWhiteSpace(membership.ConnectionString)
            ? new TableServiceClient(membership.ConnectionString)
            : new TableServiceClient(membership.ServiceUrl, new DefaultAzureCredential());
}
