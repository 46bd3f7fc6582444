using Cluster.Grains.Hosting;

namespace Cluster.Grains.Tests;

/// <summary>The scheduler's settings in <see cref="TrainingClusterOptions"/>: validated, each problem naming the fix.</summary>
public sealed class SchedulerOptionsTests
{
    [Fact]
    public void The_silent_job_hold_is_an_option_that_must_outlast_a_nodes_silence()
    {
        Assert.Equal(TimeSpan.FromMinutes(10), new TrainingClusterOptions().SchedulerSilentJobHold);
        Assert.Empty(new TrainingClusterOptions { SchedulerSilentJobHold = TimeSpan.FromSeconds(30) }.Validate());

        foreach (var hold in new[] { TimeSpan.Zero, TimeSpan.FromSeconds(-1), TimeSpan.FromSeconds(1) })
        {
            var problems = new TrainingClusterOptions { SchedulerSilentJobHold = hold }.Validate();
            var problem = Assert.Single(problems);
            Assert.StartsWith($"SchedulerSilentJobHold = {hold} must exceed NodeTimeout = 00:00:01 (e.g. 00:10:00)", problem, StringComparison.Ordinal);
            Assert.Contains("two jobs on one node", problem, StringComparison.Ordinal);
        }
        // Measured against the NodeTimeout actually set.
        Assert.Single(new TrainingClusterOptions { NodeTimeout = TimeSpan.FromMinutes(1), SchedulerSilentJobHold = TimeSpan.FromSeconds(30) }.Validate());
    }
}
