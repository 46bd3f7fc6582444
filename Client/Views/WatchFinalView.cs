namespace Cluster.Client.Views;

/// <summary>The last line of <c>job watch --json</c>: the job's final status and its exit code.</summary>
internal sealed record WatchFinalView(JobView Job, int ExitCode)
{
    public string Type => "final";
}
