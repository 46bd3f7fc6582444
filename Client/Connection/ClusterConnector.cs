using Azure.Data.Tables;
using Azure.Identity;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Tls;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;

namespace Cluster.Client.Connection;

/// <summary>
/// Connects an Orleans client with <see cref="ClientConnectionOptions"/>: retries a refused gateway until the connect
/// timeout (a silo that is still starting), then gives up with a <see cref="ClusterUnreachableException"/>.
/// </summary>
public sealed class ClusterConnector(ClientConnectionOptions options, bool verbose = false) : IClusterConnector
{
    private IHost? _host;

    public bool IsConnected => _host is not null;

    public async Task<IClusterClient> ConnectAsync(CancellationToken cancellationToken)
    {
        if (_host is not null) return _host.Services.GetRequiredService<IClusterClient>();
        var problems = options.Validate();
        if (problems.Count > 0) throw new ConnectionOptionsInvalidException(problems);

        var deadline = DateTime.UtcNow + options.ConnectTimeout;
        var host = Build(deadline);
        Exception? failure = null;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(options.ConnectTimeout);
            await host.StartAsync(timeout.Token).WaitAsync(options.ConnectTimeout + TimeSpan.FromMilliseconds(500), cancellationToken);
            _host = host;
            return host.Services.GetRequiredService<IClusterClient>();
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            failure = e;
        }
        finally
        {
            if (_host is null) await StopQuietly(host);
        }
        cancellationToken.ThrowIfCancellationRequested();
        throw new ClusterUnreachableException(options, failure is TimeoutException or OperationCanceledException
            ? "no gateway answered" : $"the last attempt failed with: {Shorten(failure?.Message)}", failure);
    }

    private IHost Build(DateTime deadline)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        // The console owns Ctrl+C and SIGTERM (they stop the command, which then disconnects); the host's default
        // console lifetime would instead stop the client under a command that is still running.
        builder.Services.AddSingleton<IHostLifetime, CommandLifetime>();
        builder.Logging.ClearProviders();
        if (verbose) builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Information);
        builder.UseOrleansClient(client =>
        {
            // The same Orleans calls the silo makes for its membership provider, so that both sides end up with the
            // same cluster id (Orleans keeps its own default when localhost clustering is given the "dev" ones).
            switch (options.Clustering)
            {
                case ClusteringKind.AzureTable:
                    client.UseAzureStorageClustering(o =>
                    {
                        o.TableServiceClient = string.IsNullOrWhiteSpace(options.Membership.ConnectionString)
                            ? new TableServiceClient(options.Membership.ServiceUrl, new DefaultAzureCredential())
                            : new TableServiceClient(options.Membership.ConnectionString);
                        o.TableName = options.Membership.TableName;
                    });
                    ConfigureIds(client);
                    break;
                case ClusteringKind.Redis:
                    client.UseRedisClustering(options.Membership.ConnectionString!);
                    ConfigureIds(client);
                    break;
                default:
                    if (options.Gateways.Count > 0)
                    {
                        client.UseStaticClustering(options.ResolveGateways());
                        if (options.ClusterId != DevelopmentId || options.ServiceId != DevelopmentId) ConfigureIds(client);
                    }
                    else
                    {
                        client.UseLocalhostClustering(options.GatewayPort, options.ServiceId, options.ClusterId);
                    }
                    break;
            }
            // A gateway that refuses is usually a silo still starting: try again until the deadline.
            client.UseConnectionRetryFilter(async (_, ct) =>
            {
                if (DateTime.UtcNow + TimeSpan.FromMilliseconds(500) >= deadline) return false;
                await Task.Delay(TimeSpan.FromMilliseconds(500), ct);
                return true;
            });
            client.UseClusterTls(options.Tls); // nothing unless Tls:Enabled
            client.AddMemoryStreams(JobStreams.Provider);
        });
        return builder.Build();
    }

    private const string DevelopmentId = "dev";

    private void ConfigureIds(IClientBuilder client) => client.Configure<ClusterOptions>(o =>
    {
        o.ClusterId = options.ClusterId;
        o.ServiceId = options.ServiceId;
    });

    private static string Shorten(string? message) =>
        message is null ? "unknown error" : message.Split('\n')[0].Trim().TrimEnd('.');

    private static async Task StopQuietly(IHost host)
    {
        try
        {
            await host.StopAsync(TimeSpan.FromSeconds(2));
        }
        catch (Exception)
        {
            // a client that never connected has nothing to stop cleanly
        }
        host.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        if (_host is null) return;
        await StopQuietly(_host);
        _host = null;
    }
}
