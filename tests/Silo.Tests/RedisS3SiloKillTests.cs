using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Tests;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;

namespace Cluster.Silo.Tests;

/// <summary>
/// A fleet with no Azure and no shared file system — Redis membership, job state in Redis, checkpoints in an
/// S3-compatible bucket (s3rver), every silo process on its own data root — trains a job bit-identically through a
/// <c>kill -9</c> of a stage's silo process: the recovery restores from the bucket.
/// </summary>
public sealed class RedisS3SiloKillTests(RedisFixture redis, S3rverFixture s3) : IClassFixture<RedisFixture>, IClassFixture<S3rverFixture>
{
    private const int SiloCount = 3;

    [Fact]
    public async Task Killing_a_stage_silo_process_keeps_the_trajectory_with_redis_state_and_s3_checkpoints()
    {
        string clusterId = $"redis-s3-{Guid.NewGuid():N}"[..24];
        string bucket = $"fleet-{Guid.NewGuid():N}"[..24];
        await using var cluster = new ProcessCluster();
        string[] names = [.. Enumerable.Range(0, SiloCount).Select(i => $"silo-{(char)('a' + i)}")];
        int[] ports = SiloProcess.FreePorts(2 * SiloCount);
        for (int i = 0; i < SiloCount; i++)
            cluster.StartSilo(names[i], Args(names[i], clusterId, bucket, ports[(2 * i)..(2 * i + 2)], Path.Combine(cluster.WorkRoot, names[i])));
        var client = await cluster.ConnectAsync(c => Client(c, clusterId), TimeSpan.FromMinutes(2));
        await cluster.WaitForNodesAsync(client, SiloCount);

        // Durable checkpoints only (no in-memory snapshots): the restore after the kill must come from the bucket.
        // Enough steps that the job is still running when the kill lands (with snapshots overlapping the next step, 18
        // steps of the tiny job could end in the moment between the status read and the kill).
        var spec = TinyJob.Spec($"redis-s3-{cluster.Suffix}", stages: 2, steps: 300, checkpointInterval: 20) with { SnapshotInterval = 0 };
        var job = client.GetGrain<ITrainingJobGrain>(spec.JobId);
        await job.Submit(spec);
        JobStatus running = null!;
        await cluster.WaitAsync(async () => (running = await job.GetStatus()) is { LastCheckpointStep: >= 20, CompletedSteps: >= 22 } || IsFinished(running),
            TimeSpan.FromMinutes(3), "the job to commit a checkpoint and pass step 22");
        Assert.False(IsFinished(running), $"the job ended before the kill: {running.State} {running.Error}");

        // A stage's silo that does not host the job grain (losing the coordinator is another test's story).
        string victimName = running.Placement.Select(p => p.SiloName).First(s => s != running.HostSilo);
        var victim = cluster.Silos.Single(s => s.Name == victimName);
        await victim.SignalAsync("KILL");
        await victim.WaitForExitAsync(TimeSpan.FromSeconds(30));

        JobStatus done = null!;
        await cluster.WaitAsync(async () => IsFinished(done = await job.GetStatus()), TimeSpan.FromMinutes(4),
            $"the job to recover from the kill of {victimName} and finish", silosMustRun: false);
        Assert.True(done.State == JobState.Completed, $"job ended {done.State}: {done.Error}\n{cluster.Outputs()}");
        Assert.True(done.Epoch > running.Epoch, $"no recovery: epoch {done.Epoch} (was {running.Epoch})");
        Assert.DoesNotContain(done.Placement, p => p.SiloName == victimName);
        var expected = TinyJob.ReferenceLosses(spec);
        Assert.Equal(expected.Select(BitConverter.DoubleToInt64Bits), (await job.GetLossHistory()).Select(BitConverter.DoubleToInt64Bits));

        // The checkpoints are in the bucket, and nothing of them or of the job state is on any silo's disk.
        using var s3Client = new AmazonS3Client(new BasicAWSCredentials(S3rverFixture.AccessKey, S3rverFixture.SecretKey),
            new AmazonS3Config { ServiceURL = s3.ServiceUrl.ToString(), ForcePathStyle = true, AuthenticationRegion = "us-east-1" });
        var listed = await s3Client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket });
        Assert.Contains(listed.S3Objects ?? [], o => o.Key.Contains(spec.JobId, StringComparison.Ordinal));
        foreach (string name in names)
        {
            string root = Path.Combine(cluster.WorkRoot, name);
            string[] files = Directory.Exists(root) ? Directory.GetFiles(root, "*", SearchOption.AllDirectories) : [];
            Assert.DoesNotContain(files, f => f.Contains(spec.JobId, StringComparison.Ordinal));
        }
    }

    private static bool IsFinished(JobStatus? s) => s?.State is JobState.Completed or JobState.Failed or JobState.Cancelled;

    private string[] Args(string name, string clusterId, string bucket, int[] ports, string dataRoot) =>
    [
        $"--Orleans:SiloName={name}", $"--Orleans:ClusterId={clusterId}", "--Orleans:ServiceId=silo-tests",
        $"--Orleans:SiloPort={ports[0]}", $"--Orleans:GatewayPort={ports[1]}", "--Orleans:AdvertisedIPAddress=127.0.0.1",
        "--Orleans:Membership:Provider=Redis", $"--Orleans:Membership:ConnectionString={redis.ConnectionString}",
        "--TrainingCluster:DeviceSlots=1", "--TrainingCluster:ThreadsPerSlot=1", $"--TrainingCluster:DataRoot={dataRoot}",
        "--TrainingCluster:CheckpointStore=s3", $"--TrainingCluster:S3:ServiceUrl={s3.ServiceUrl}", $"--TrainingCluster:S3:BucketName={bucket}",
        $"--TrainingCluster:S3:AccessKey={S3rverFixture.AccessKey}", $"--TrainingCluster:S3:SecretKey={S3rverFixture.SecretKey}",
        // The fleet profile: under load on 2 cores a survivor could miss two 1 s probes, be voted dead by one peer and
        // end itself by design (Orleans' FailFast, exit 134: the SIGABRT once seen here). A kill -9 still shows in ~6 s.
        "--TrainingCluster:FailureDetection=fleet",
        "--Logging:LogLevel:Default=Warning",
    ];

    private void Client(IClientBuilder client, string clusterId)
    {
        client.UseRedisClustering(redis.ConnectionString);
        client.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (clusterId, "silo-tests"));
    }
}
