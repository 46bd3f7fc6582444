namespace Cluster.Grains.Hosting;

/// <summary>
/// A grain that publishes events about jobs and knows their teams (the job itself, the scheduler): <see cref="ClusterEvents"/>
/// stamps each job event with its team from here, so that readers limited to teams see only theirs.
/// </summary>
internal interface IKnowJobTeams
{
    /// <summary>The team of <paramref name="jobId"/>, or null when this grain does not know it.</summary>
    string? TeamOf(string jobId);
}
