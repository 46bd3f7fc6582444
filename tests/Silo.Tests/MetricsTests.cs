using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Tests;

namespace Cluster.Silo.Tests;

/// <summary>With Observability:PrometheusPort and DashboardPort set, a silo process serves its metrics for Prometheus and the Orleans Dashboard.</summary>
public sealed class MetricsTests
{
    [Fact]
    public async Task The_scrape_endpoint_serves_training_checkpoint_and_heartbeat_metrics_and_the_dashboard_answers()
    {
        await using var cluster = new ProcessCluster();
        int[] ports = SiloProcess.FreePorts(4);
        cluster.StartSilo("silo-a",
        [
            "--Orleans:SiloName=silo-a", $"--Orleans:SiloPort={ports[0]}", $"--Orleans:GatewayPort={ports[1]}",
            "--TrainingCluster:DeviceSlots=1", "--TrainingCluster:ThreadsPerSlot=1", $"--TrainingCluster:DataRoot={Path.Combine(cluster.WorkRoot, "data")}",
            $"--Observability:PrometheusPort={ports[2]}", $"--Observability:DashboardPort={ports[3]}", "--Logging:LogLevel:Default=Warning",
        ]);
        var client = await cluster.ConnectAsync(c => c.UseLocalhostClustering(ports[1]), TimeSpan.FromMinutes(2));
        await cluster.WaitForNodesAsync(client, 1);

        var spec = TinyJob.Spec($"metrics-{cluster.Suffix}", stages: 1, steps: 4, checkpointInterval: 2);
        var job = client.GetGrain<ITrainingJobGrain>(spec.JobId);
        await job.Submit(spec);
        await cluster.WaitAsync(async () => (await job.GetStatus()).State == JobState.Completed, TimeSpan.FromMinutes(2), "the job to complete");

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        string[] expected =
        [
            "cluster_training_steps_total", "cluster_training_tokens_total", "cluster_training_loss",
            "cluster_training_step_duration_seconds", "cluster_checkpoint_commit_duration_seconds", "cluster_node_heartbeat_lag_seconds",
        ];
        string scraped = "";
        await cluster.WaitAsync(async () =>
        {
            scraped = await http.GetStringAsync($"http://localhost:{ports[2]}/metrics");
            return expected.All(scraped.Contains);
        }, TimeSpan.FromSeconds(60), $"the scrape to list {string.Join(", ", expected)}");
        // Every one of the job's 4 steps counted, under its job label.
        Assert.Matches(new System.Text.RegularExpressions.Regex($@"^cluster_training_steps_total\{{[^}}]*job=""{spec.JobId}""[^}}]*\}} 4(\s|$)", System.Text.RegularExpressions.RegexOptions.Multiline), scraped);

        // The Orleans Dashboard's page.
        string page = await http.GetStringAsync($"http://localhost:{ports[3]}/");
        Assert.Contains("<html", page, StringComparison.OrdinalIgnoreCase);
    }
}
