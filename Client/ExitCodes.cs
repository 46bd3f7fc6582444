namespace Cluster.Client;

/// <summary>The console's exit codes (documented in docs/console.md; scripts rely on them: never renumber).</summary>
internal static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>The command reached the cluster but failed (the grain refused or threw).</summary>
    public const int Failed = 1;

    /// <summary>Bad usage or input: unknown option, malformed or invalid job spec, bad value.</summary>
    public const int Usage = 2;

    /// <summary>No gateway of the cluster answered within the connect timeout.</summary>
    public const int Unreachable = 3;

    /// <summary>The job, node or checkpoint named does not exist.</summary>
    public const int NotFound = 4;

    /// <summary><c>job watch</c>: the job ended Failed.</summary>
    public const int JobFailed = 5;

    /// <summary><c>job watch</c>: the job ended Cancelled.</summary>
    public const int JobCancelled = 6;

    /// <summary>Interrupted (Ctrl+C), as shells report SIGINT.</summary>
    public const int Interrupted = 130;
}
