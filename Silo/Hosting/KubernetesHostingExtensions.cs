using System.Net;
using Cluster.Silo.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.Hosting;

namespace Cluster.Silo.Hosting;

/// <summary>Orleans' Kubernetes hosting, when <see cref="KubernetesOptions"/> say the silo runs in a pod.</summary>
internal static class KubernetesHostingExtensions
{
    /// <summary>
    /// In a pod: silo name = pod name, advertised address = pod IP, listening on every interface, ClusterId/ServiceId
    /// from the pod's labels (validated equal to Orleans:ClusterId/ServiceId), and pods watched so that the silos of
    /// deleted pods are declared dead at once. Call after the membership and endpoint settings, so that these win.
    /// </summary>
    public static ISiloBuilder UseKubernetesWhenInPod(this ISiloBuilder silo, KubernetesOptions kubernetes, Func<string, string?> environment)
    {
        if (!kubernetes.IsEnabled(environment)) return silo;
        silo.UseKubernetesHosting(options => options.Configure(o =>
        {
            o.MaxAgents = kubernetes.MaxAgents;
            o.DeleteDefunctSiloPods = kubernetes.DeleteDefunctSiloPods;
        }));
        // Orleans' hosting keeps an advertised address already configured (ours: the host name's first address, which
        // in a pod may not be the pod IP): the pod IP wins, and the silo listens on every interface of the pod.
        var podIp = IPAddress.Parse(environment("POD_IP")!);
        silo.Services.PostConfigure<EndpointOptions>(o =>
        {
            o.AdvertisedIPAddress = podIp;
            o.SiloListeningEndpoint = new IPEndPoint(IPAddress.Any, o.SiloPort);
            o.GatewayListeningEndpoint = new IPEndPoint(IPAddress.Any, o.GatewayPort);
        });
        return silo;
    }
}
