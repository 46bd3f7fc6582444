using Cluster.Grains.Scheduling;

namespace Cluster.Grains.Tests;

/// <summary>A membership table whose next read the test decides (answer, hang or fail), counting the reads.</summary>
internal sealed class ScriptedVotes : IMembershipVotes
{
    private int _reads;

    public Func<Task<IReadOnlyList<MembershipEntry>>> Next { get; set; } = () => Task.FromResult<IReadOnlyList<MembershipEntry>>([]);

    public int Reads => Volatile.Read(ref _reads);

    public Task<IReadOnlyList<MembershipEntry>> ReadActive()
    {
        Interlocked.Increment(ref _reads);
        return Next();
    }
}
