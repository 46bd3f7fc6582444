using Cluster.Grains.Interfaces.Jobs;

namespace Cluster.Grains.Tests;

/// <summary>A client names files a silo must never read: each is refused at submit, and no error quotes a file's content.</summary>
public sealed class DataSourceSubmitTests(OneSiloClusterFixture fixture) : IClassFixture<OneSiloClusterFixture>
{
    private async Task<string> RefusedAt(string jobId, string dataSource)
    {
        var grain = fixture.Client.GetGrain<ITrainingJobGrain>(jobId);
        var error = await Assert.ThrowsAsync<JobSpecInvalidException>(() => grain.Submit(TinyJob.Spec(jobId, stages: 2) with { DataSource = dataSource }));
        string problem = Assert.Single(error.Problems, p => p.StartsWith("dataSource:", StringComparison.Ordinal));
        Assert.Null(await grain.GetSpec()); // nothing was accepted
        return problem;
    }

    [Fact]
    public async Task Proc_environ_dev_zero_dot_dot_and_a_link_out_of_the_data_root_are_refused_at_submit()
    {
        string environProblem = await RefusedAt("leak-environ", "/proc/self/environ");
        foreach (string name in Environment.GetEnvironmentVariables().Keys.Cast<string>().Where(n => n.Length > 3))
            Assert.DoesNotContain(name + "=", environProblem, StringComparison.Ordinal);

        await RefusedAt("leak-zero", "/dev/zero"); // read, this would pull gigabytes onto a grain thread
        await RefusedAt("leak-dotdot", Path.Combine(fixture.DataRoot, "..", "..", "etc", "passwd"));

        string secret = Path.Combine(Path.GetTempPath(), "cluster-tests", "secret-" + Guid.NewGuid().ToString("N") + ".txt");
        await File.WriteAllTextAsync(secret, "secret-value-" + new string('s', 100));
        string link = Path.Combine(fixture.DataRoot, "innocent.txt");
        File.CreateSymbolicLink(link, secret);
        try
        {
            Assert.DoesNotContain("secret-value", await RefusedAt("leak-link", link), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(link);
            File.Delete(secret);
        }
    }

    [Fact]
    public async Task A_file_under_the_data_root_is_accepted()
    {
        string corpus = Path.Combine(fixture.DataRoot, "corpus.txt");
        await File.WriteAllBytesAsync(corpus, [.. Enumerable.Range(0, 8192).Select(i => (byte)(32 + (i % 90)))]);
        var grain = fixture.Client.GetGrain<ITrainingJobGrain>("data-ok");
        var status = await grain.Submit(TinyJob.Spec("data-ok", stages: 2, steps: 4) with { DataSource = corpus });
        Assert.Equal("data-ok", status.JobId);
        await grain.Cancel();
    }
}
