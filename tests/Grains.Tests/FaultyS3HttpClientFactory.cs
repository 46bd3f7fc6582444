using Amazon.Runtime;

namespace Cluster.Grains.Tests;

/// <summary>Hands an S3 client HTTP clients that send through <paramref name="transport"/>.</summary>
public sealed class FaultyS3HttpClientFactory(FaultyS3Transport transport) : HttpClientFactory
{
    public override HttpClient CreateHttpClient(IClientConfig clientConfig) => new(transport, disposeHandler: false);

    public override bool UseSDKHttpClientCaching(IClientConfig clientConfig) => false;

    public override bool DisposeHttpClientsAfterUse(IClientConfig clientConfig) => false;
}
