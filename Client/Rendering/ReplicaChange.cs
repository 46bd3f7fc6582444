namespace Cluster.Client.Rendering;

/// <summary>A job's data-parallel replica count went from <see cref="From"/> to <see cref="To"/> at <see cref="Step"/> (as <c>job watch</c> saw it).</summary>
internal sealed record ReplicaChange(long Step, int From, int To, DateTimeOffset At)
{
    public bool IsShrink => To < From;
}
