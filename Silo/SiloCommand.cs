using Cluster.Grains.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;

namespace Cluster.Silo;

/// <summary>
/// Runs one silo: localhost clustering and the embedded defaults unless configured otherwise. Settings come from
/// appsettings.json, CLUSTER_-prefixed environment variables and the command line (e.g.
/// <c>--TrainingCluster:DeviceSlots=2</c>), in that order of precedence.
/// </summary>
internal static class SiloCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length > 0 && args[0] is "-h" or "--help")
        {
            Console.WriteLine("""
                Usage:
                  Cluster.Silo demo [options]      train the demo model on a local cluster (see 'demo --help')
                  Cluster.Silo [--Key=Value …]     run one silo (localhost clustering, file-system checkpoints)
                Settings: TrainingCluster:DeviceSlots, TrainingCluster:ThreadsPerSlot, TrainingCluster:DataRoot,
                          TrainingCluster:HeartbeatPeriod, Orleans:SiloName, Orleans:SiloPort, Orleans:GatewayPort,
                          Orleans:PrimarySiloPort (the first silo's port, for more silo processes on one machine),
                          Silo:ParentProcessId (stop when that process is gone: for silos a test or benchmark starts)
                """);
            return 0;
        }
        var builder = Host.CreateApplicationBuilder(args);
        builder.Configuration.AddEnvironmentVariables("CLUSTER_");
        var orleans = builder.Configuration.GetSection("Orleans");
        builder.UseOrleans(silo =>
        {
            // Several silo processes on one machine: every one but the first names the first one's silo port.
            int siloPort = orleans.GetValue("SiloPort", 11111);
            int primaryPort = orleans.GetValue("PrimarySiloPort", siloPort);
            silo.UseLocalhostClustering(siloPort, orleans.GetValue("GatewayPort", 30000), new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, primaryPort));
            if (orleans["SiloName"] is { Length: > 0 } name)
                silo.Configure<SiloOptions>(o => o.SiloName = name);
            silo.UseFastFailureDetection();
            silo.AddTrainingCluster(o => builder.Configuration.GetSection("TrainingCluster").Bind(o));
        });
        if (builder.Configuration.GetValue<int?>("Silo:ParentProcessId") is { } parent)
            builder.Services.AddHostedService(sp => ActivatorUtilities.CreateInstance<ParentProcessWatch>(sp, parent));
        await builder.Build().RunAsync();
        return 0;
    }
}
